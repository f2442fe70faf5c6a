python benchmarks/bo_step_cost.py --parts regret,mo --seeds 20 --mo-seeds 3 --jobs 1
