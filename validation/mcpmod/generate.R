# Reference results for atopic.trial.analyze.mcpmod from R's DoseFinding (Debian r-cran-dosefinding).
# Reads data.csv (made by make_data.py) and writes expected.json. Run from this folder:
#   Rscript generate.R
# Three analyses of the same trial: "normal" (raw data, cell means), "ancova" (raw data with
# addCovars = ~ BASE + STRATUM) and "general" (cell means and their covariance, type = "general").
# Multivariate-t quantities are computed twice: with DoseFinding's default mvtnorm control
# (what a user sees) and with a tight one (maxpts = 2e6, abseps = 1e-6) as the precise reference.

suppressPackageStartupMessages(library(DoseFinding))

# -- a small JSON writer (base R only, numbers with 17 significant digits) --------------------------
json <- function(x) {
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (!is.null(names(x))) {
      parts <- vapply(names(x), function(n) paste0('"', n, '": ', json(x[[n]])), "")
      return(paste0("{", paste(parts, collapse = ", "), "}"))
    }
    return(paste0("[", paste(vapply(x, json, ""), collapse = ", "), "]"))
  }
  if (is.matrix(x)) {
    return(json(lapply(seq_len(nrow(x)), function(i) unname(x[i, ]))))
  }
  if (is.character(x)) {
    v <- paste0('"', x, '"')
  } else if (is.logical(x)) {
    v <- ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  } else {
    v <- ifelse(is.finite(x), sprintf("%.17g", x), "null")
  }
  if (length(x) == 1 && is.null(names(x))) return(v)
  if (!is.null(names(x))) {
    return(paste0("{", paste(paste0('"', names(x), '": ', v), collapse = ", "), "}"))
  }
  paste0("[", paste(v, collapse = ", "), "]")
}

d <- read.csv("data.csv", stringsAsFactors = TRUE)
doses <- sort(unique(d$DOSE))
models <- Mods(linear = NULL, emax = c(5, 25), sigEmax = c(30, 3), exponential = 80,
               quadratic = -0.006, doses = doses, direction = "decreasing")
Delta <- 4
alpha <- 0.025
grid <- seq(0, max(doses), length.out = 21)
tight <- mvtnorm.control(maxpts = 2e6, abseps = 1e-6)
fit_names <- c("linear", "quadratic", "emax", "sigEmax", "exponential")
bnds <- defBnds(max(doses))

mct_list <- function(test, test_tight) {
  list(
    contrasts = test$contMat, contrast_names = colnames(test$contMat),
    corr = test$corMat, t = unname(test$tStat),
    p = unname(attr(test$tStat, "pVal")), crit = as.numeric(test$critVal),
    p_tight = unname(attr(test_tight$tStat, "pVal")),
    crit_tight = as.numeric(test_tight$critVal)
  )
}

fit_list <- function(fit, type) {
  ls <- predict(fit, predType = "ls-means", doseSeq = grid, se.fit = TRUE)
  ef <- predict(fit, predType = "effect-curve", doseSeq = grid, se.fit = TRUE)
  crit <- if (type == "general") gAIC(fit) else AIC(fit)
  list(
    coefs = coef(fit), coef_names = names(coef(fit)), crit = crit,
    rss = if (type == "general") fit$gRSS else fit$RSS, df = fit$df,
    vcov = unname(vcov(fit)),
    ls_fit = ls$fit, ls_se = ls$se.fit, eff_fit = ef$fit, eff_se = ef$se.fit,
    td = TD(fit, Delta = Delta, direction = "decreasing")
  )
}

mcp_list <- function(mcp) {
  list(
    selected = mcp$selMod, fitted = names(mcp$mods),
    crit = unname(mcp$modcrit), td = unname(mcp$doseEst)
  )
}

out <- list(
  doses = doses, grid = grid, Delta = Delta, alpha = alpha, direction = "decreasing",
  candidate_mu = getResp(models), candidate_names = colnames(getResp(models)),
  DoseFinding = as.character(packageVersion("DoseFinding")),
  mvtnorm = as.character(packageVersion("mvtnorm"))
)

# -- type = "normal", raw data, no covariates, and with covariates (ANCOVA) ------------------------
for (scen in c("normal", "ancova")) {
  covars <- if (scen == "normal") ~1 else ~ BASE + STRATUM
  set.seed(1)
  test <- MCTtest(DOSE, CHG, data = d, models = models, addCovars = covars, alpha = alpha,
                  critV = TRUE)
  set.seed(1)
  test_tight <- MCTtest(DOSE, CHG, data = d, models = models, addCovars = covars, alpha = alpha,
                        critV = TRUE, mvtcontrol = tight)
  lmfit <- lm(as.formula(paste("CHG ~ factor(DOSE) +", covars[2], "- 1")), data = d)
  set.seed(1)
  mcp <- MCPMod(DOSE, CHG, data = d, models = models, addCovars = covars, alpha = alpha,
                Delta = Delta)
  fits <- list()
  for (m in fit_names) {
    f <- fitMod(DOSE, CHG, data = d, model = m, addCovars = covars, bnds = bnds[[m]])
    fits[[m]] <- fit_list(f, "normal")
  }
  f <- fitMod(DOSE, CHG, data = d, model = "sigEmax", addCovars = covars, bnds = bnds$sigEmax,
              control = list(nlminbcontrol = list(rel.tol = 1e-15, x.tol = 1e-12,
                                                   eval.max = 1000, iter.max = 1000)))
  fits[["sigEmax_tight"]] <- fit_list(f, "normal")
  out[[scen]] <- list(
    mct = mct_list(test, test_tight), df = lmfit$df.residual, mcpmod = mcp_list(mcp),
    fits = fits
  )
}

# -- type = "general": cell means and their covariance ------------------------------------------
lmfit <- lm(CHG ~ factor(DOSE) - 1, data = d)
est <- unname(coef(lmfit))
S <- unname(vcov(lmfit))
set.seed(1)
test <- MCTtest(doses, est, S = S, type = "general", models = models, alpha = alpha, critV = TRUE)
set.seed(1)
test_tight <- MCTtest(doses, est, S = S, type = "general", models = models, alpha = alpha,
                      critV = TRUE, mvtcontrol = tight)
set.seed(1)
mcp <- MCPMod(doses, est, S = S, type = "general", models = models, alpha = alpha, Delta = Delta)
fits <- list()
for (m in fit_names) {
  f <- fitMod(doses, est, S = S, type = "general", model = m, bnds = bnds[[m]])
  fits[[m]] <- fit_list(f, "general")
}
f <- fitMod(doses, est, S = S, type = "general", model = "sigEmax", bnds = bnds$sigEmax,
            control = list(nlminbcontrol = list(rel.tol = 1e-15, x.tol = 1e-12,
                                                eval.max = 1000, iter.max = 1000)))
fits[["sigEmax_tight"]] <- fit_list(f, "general")
out[["general"]] <- list(
  estimates = est, S = S, mct = mct_list(test, test_tight), df = NULL, mcpmod = mcp_list(mcp),
  fits = fits
)

writeLines(json(out), "expected.json")
cat("wrote expected.json\n")
