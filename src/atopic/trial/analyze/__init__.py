"""Statistical methods of AD trials; every result is written as rows of the ARD
(``atopic.trial.ard``)."""
