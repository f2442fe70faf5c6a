python benchmarks/bo_step_cost.py --seeds 20 --mo-seeds 3 --jobs 2  (the script at 71060ad ran every part in one go; its cost rows)
