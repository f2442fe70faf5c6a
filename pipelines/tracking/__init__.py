"""MLflow: the tracker every command logs through (:mod:`.tracker`) and fitted predictors
saved as MLflow artifacts or files (:mod:`.predictor_store`)."""
