"""Where trainings run: pure training jobs (:mod:`.jobs`) on executors (:mod:`.executors`, :mod:`.ray_executor`)."""
