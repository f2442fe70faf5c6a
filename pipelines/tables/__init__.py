"""What is done with benchmark tables besides searching them: the architecture database read as
a table (:mod:`.db_table`), predictor comparison (:mod:`.compare`) and transfer from another
table of the same space (:mod:`.transfer`)."""
