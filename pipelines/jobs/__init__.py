"""Named, resumable jobs over the search engine and the database: a search's configuration
(:mod:`.config`), its stored trials (:mod:`.trials`), the job that runs it (:mod:`.search_job`),
the seed plans of ``surrogate-nas seed`` (:mod:`.seeding`) and what ``--objectives`` and
``--constraint`` words mean (:mod:`.objective_words`)."""
