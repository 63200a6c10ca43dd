# Reference results for atopic.trial.analyze.mmrm (tests/trial/analyze/test_mmrm.py).
#
# Reads data.csv (written by make_data.py) and writes expected.json:
#   - nlme::gls fits of CHG ~ TRT01P*AVISIT + BASE*AVISIT + STRAT1R for every residual covariance
#     structure gls can express (REML; "us" also with ML):
#       us    corSymm                       + varIdent(~ 1 | AVISIT)
#       cs    corCompSymm
#       csh   corCompSymm                   + varIdent
#       ar1   corAR1   (lag = visit index)
#       ar1h  corAR1                        + varIdent
#       toep  corARMA(p = n_visits - 1, q = 0)   (a stationary AR(T-1) spans every T x T Toeplitz
#       toeph corARMA(p = n_visits - 1)     + varIdent    correlation matrix: Yule-Walker)
#     coefficients, SEs, vcov, the visit covariance matrix, logLik, AIC;
#     emmeans(fit, ~ TRT01P | AVISIT, mode = "satterthwaite"): LS means and treatment-vs-placebo
#     contrasts (adjust = "none") with SE, df, t, p and 95 % CIs.
#   - Kenward-Roger for compound symmetry: lme4::lmer with a random subject intercept is the same
#     model as "cs" (linear parametrisation: between-subject covariance + residual variance) when the
#     correlation is positive; emmeans(lmer.df = "kenward-roger") uses pbkrtest.
#
# Missing visits are rows with an empty CHG; rows with any missing model variable are removed here,
# explicitly (emmeans' gls Satterthwaite gradient rebuilds X from the data and needs no NA rows).
# The correlation form uses the visit index VIDX (1..T) so that a missing visit maps correctly.
#
# Run from this folder: Rscript generate.R
suppressPackageStartupMessages({
  library(nlme)
  library(emmeans)
  library(jsonlite)
  library(lme4)
  library(pbkrtest)
})

raw <- read.csv("data.csv", stringsAsFactors = FALSE, na.strings = "")
vars <- c("USUBJID", "TRT01P", "STRAT1R", "AVISIT", "AVISITN", "BASE", "CHG")
d <- raw[complete.cases(raw[, vars]), vars]
visits <- unique(raw[order(raw$AVISITN), "AVISIT"])
d$TRT01P <- factor(d$TRT01P, levels = c("Placebo", "Low", "High"))
d$AVISIT <- factor(d$AVISIT, levels = visits)
d$STRAT1R <- factor(d$STRAT1R)
d$VIDX <- as.integer(d$AVISIT)
d$USUBJID <- factor(d$USUBJID)
d <- d[order(d$USUBJID, d$VIDX), ]
n_visits <- length(visits)

# natural = FALSE: apVar in nlme's unconstrained parameters, which emmeans' (analytic-gradient)
# gls Satterthwaite needs; with the default it falls back to "appx-satterthwaite".
ctrl <- glsControl(maxIter = 500, msMaxIter = 1000, tolerance = 1e-12, msTol = 1e-12, natural = FALSE)
ctrl_polish <- glsControl(maxIter = 500, msMaxIter = 5000, tolerance = 1e-12, msTol = 1e-15,
                          natural = FALSE, opt = "optim", optimMethod = "BFGS")
model <- CHG ~ TRT01P * AVISIT + BASE * AVISIT + STRAT1R
structures <- list(
  us = list(cor = function(...) corSymm(..., form = ~ VIDX | USUBJID), het = TRUE),
  cs = list(cor = function(...) corCompSymm(..., form = ~ VIDX | USUBJID), het = FALSE),
  csh = list(cor = function(...) corCompSymm(..., form = ~ VIDX | USUBJID), het = TRUE),
  ar1 = list(cor = function(...) corAR1(..., form = ~ VIDX | USUBJID), het = FALSE),
  ar1h = list(cor = function(...) corAR1(..., form = ~ VIDX | USUBJID), het = TRUE),
  toep = list(cor = function(...) corARMA(..., form = ~ VIDX | USUBJID, p = n_visits - 1, q = 0),
              het = FALSE),
  toeph = list(cor = function(...) corARMA(..., form = ~ VIDX | USUBJID, p = n_visits - 1, q = 0),
               het = TRUE)
)

# a subject observed at every visit, to read the visit covariance matrix off getVarCov
complete_id <- names(which(table(d$USUBJID) == n_visits))[1]

frame_rows <- function(df) lapply(seq_len(nrow(df)), function(i) as.list(df[i, , drop = FALSE]))

emm_results <- function(emm) {
  s <- as.data.frame(summary(emm, infer = c(TRUE, FALSE), level = 0.95))
  lsm <- data.frame(
    group = as.character(s$TRT01P), visit = as.character(s$AVISIT), estimate = s$emmean,
    se = s$SE, df = s$df, ci_lower = s$lower.CL, ci_upper = s$upper.CL
  )
  con <- contrast(emm, method = "trt.vs.ctrl", ref = 1, adjust = "none")
  cs <- as.data.frame(summary(con, infer = c(TRUE, TRUE), level = 0.95))
  con_df <- data.frame(
    contrast = as.character(cs$contrast), visit = as.character(cs$AVISIT),
    estimate = cs$estimate, se = cs$SE, df = cs$df, t = cs$t.ratio, p = cs$p.value,
    ci_lower = cs$lower.CL, ci_upper = cs$upper.CL
  )
  list(lsmeans = frame_rows(lsm), contrasts = frame_rows(con_df))
}

# nlme's default optimiser (nlminb) stops at a relative change of -logLik of about 1e-10, which
# leaves parameters ~1e-5 from the optimum; a second fit started there with optim's BFGS moves
# closer. The fit with the higher log-likelihood is kept.
fit_gls <- function(spec, method) {
  args <- list(model = model, data = d, method = method, control = ctrl)
  args$correlation <- spec$cor()
  if (spec$het) args$weights <- varIdent(form = ~ 1 | AVISIT)
  first <- do.call(gls, args)
  args$correlation <- spec$cor(coef(first$modelStruct$corStruct, unconstrained = FALSE))
  if (spec$het) {
    args$weights <- varIdent(coef(first$modelStruct$varStruct, unconstrained = FALSE),
                             form = ~ 1 | AVISIT)
  }
  args$control <- ctrl_polish
  second <- try(do.call(gls, args), silent = TRUE)
  if (!inherits(second, "try-error") && logLik(second) > logLik(first)) second else first
}

gls_results <- function(fit, with_emmeans = TRUE) {
  V <- vcov(fit)
  out <- list(
    coef = as.list(coef(fit)),
    se = as.list(sqrt(diag(V))),
    vcov = unname(V),
    coef_names = names(coef(fit)),
    cov_matrix = unname(matrix(unclass(getVarCov(fit, individual = complete_id)), n_visits)),
    loglik = as.numeric(logLik(fit)),
    aic = AIC(fit),
    n_obs = fit$dims$N
  )
  if (with_emmeans) {
    emm <- emmeans(fit, ~ TRT01P | AVISIT, mode = "satterthwaite", data = d)
    out <- c(out, emm_results(emm))
    out$base_mean <- unique(ref_grid(fit, data = d)@grid$BASE)
  }
  out
}

fits <- list()
for (name in names(structures)) {
  message("== ", name)
  fit <- fit_gls(structures[[name]], "REML")
  fits[[name]] <- c(gls_results(fit), list(method = "REML"))
}
fits[["us_ml"]] <- c(gls_results(fit_gls(structures$us, "ML"), with_emmeans = FALSE), list(method = "ML"))

# Kenward-Roger (pbkrtest) for compound symmetry through the equivalent random-intercept model
lmer_fit <- lmer(update(model, . ~ . + (1 | USUBJID)), data = d, REML = TRUE,
                 control = lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12)))
emm_kr <- emmeans(lmer_fit, ~ TRT01P | AVISIT, lmer.df = "kenward-roger")
emm_sat <- emmeans(lmer_fit, ~ TRT01P | AVISIT, lmer.df = "satterthwaite")
vc <- as.data.frame(VarCorr(lmer_fit))
kr <- list(
  coef = as.list(fixef(lmer_fit)),
  se_adjusted = as.list(sqrt(diag(as.matrix(vcovAdj(lmer_fit))))),
  between_var = vc$vcov[vc$grp == "USUBJID"],
  residual_var = vc$vcov[vc$grp == "Residual"],
  loglik = as.numeric(logLik(lmer_fit)),
  kenward_roger = emm_results(emm_kr),
  satterthwaite = emm_results(emm_sat)
)

info <- list(
  R = R.version.string,
  nlme = as.character(packageVersion("nlme")),
  emmeans = as.character(packageVersion("emmeans")),
  lme4 = as.character(packageVersion("lme4")),
  pbkrtest = as.character(packageVersion("pbkrtest")),
  n_rows = nrow(raw), n_used = nrow(d), n_subjects = length(unique(d$USUBJID)),
  visits = visits
)
write_json(
  list(info = info, gls = fits, cs_lmer = kr),
  "expected.json", digits = NA, auto_unbox = TRUE, pretty = TRUE
)
cat("wrote expected.json\n")
