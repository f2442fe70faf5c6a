python benchmarks/bo_step_cost.py --seeds 20 --mo-seeds 3 --jobs 2
