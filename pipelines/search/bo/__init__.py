"""Bayesian optimisation over a discrete space, from BoTorch-sized parts.

* :mod:`.budget`: what a step affords, planned from counts (never from a clock);
* :mod:`.candidates`: where a step looks (every untried architecture, or a seeded subset);
* :mod:`.data`: what the surrogate learns from (every trial; every rung with the fidelity as
  an input; the highest rung);
* :mod:`.surrogates`: the model (GPs kept between steps, :mod:`.gp_cache`; any predictor as a
  BoTorch model, :mod:`.predictor_model`) and its targets;
* :mod:`.screening`: a closed-form score of each candidate's marginal posterior;
* :mod:`.joint_posterior`: one joint posterior over the few points the acquisition asks about;
* :mod:`.acquisition`: BoTorch's Monte-Carlo acquisitions (:mod:`.constraints` for modelled
  constraints) and the discrete optimiser;
* :mod:`.step`: the step that composes them.

The strategies (:class:`~..strategies.bayesopt.BayesianOptimization`,
:class:`~..strategies.multifidelity.MultiFidelityBO`) add the initial design and the rung
schedule.
"""

ACQUISITIONS = ("logei", "ucb", "ts")
"""BO's acquisitions: qLogNoisyExpectedImprovement (qLogNEHVI for several objectives),
qUpperConfidenceBound and Thompson sampling (:mod:`.acquisition`)."""
