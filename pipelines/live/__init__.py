"""Live training through the architecture database: the claiming trainer (:mod:`.trainer`) and
the evaluator and backend that let every search strategy train for real (:mod:`.evaluator`)."""
