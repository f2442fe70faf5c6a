"""The plug-ins keep surrogate-nas's contracts: the checks surrogate-nas runs on its own built-ins."""

from surrogate_nas.testing import check_executor, check_predictor, check_space, check_strategy

from surrogate_nas_example_plugin.executor import JournalExecutor
from surrogate_nas_example_plugin.predictor import KNNPredictor
from surrogate_nas_example_plugin.space import MLPSpace
from surrogate_nas_example_plugin.strategy import FewestParamsFirst


def test_the_plugins_keep_the_contracts(tmp_path):
    check_space(MLPSpace())
    check_strategy(FewestParamsFirst, MLPSpace())
    check_predictor(KNNPredictor())
    check_executor(JournalExecutor(tmp_path / "journal.jsonl"))
