# Reference results for the analysis and pooling of atopic.trial.analyze.imputation
# (run from this folder: Rscript generate.R). Reads completed.csv (week-12 rows of 5 imputations
# made by make_data.py with atopic's impute_mar) and pools with mice 3.15 (Debian r-cran-mice):
#   ANCOVA: lm(CHG ~ TRT01P + BASE + REGION) per imputation, mice::pool (Barnard-Rubin df with
#           the residual df), and emmeans LS means pooled with mice::pool.scalar(n = df + 1).
#   Responder (PCHG <= -50): CMH-weighted risk difference by REGION with the Sato (1989)
#           variance (formula written here), mice::pool.scalar(n = Inf).
suppressPackageStartupMessages({library(mice); library(emmeans); library(jsonlite)})
d <- read.csv("completed.csv", stringsAsFactors = FALSE, na.strings = "")  # region "NA" is North America
d$TRT01P <- factor(d$TRT01P, levels = c("PBO", "HIGH", "LOW")); d$REGION <- factor(d$REGION)
imps <- sort(unique(d$IMPNUM))
fits <- lapply(imps, function(j) lm(CHG ~ TRT01P + BASE + REGION, data = d[d$IMPNUM == j, ]))
pooled <- pool(as.mira(fits))
s <- summary(pooled, conf.int = TRUE)
pp <- pooled$pooled
ancova <- list()
for (arm in c("HIGH", "LOW")) {
  term <- paste0("TRT01P", arm); i <- which(s$term == term); k <- which(pp$term == term)
  ancova[[arm]] <- list(
    estimate = s$estimate[i], se = s$std.error[i], df = s$df[i], statistic = s$statistic[i],
    p_value = s$p.value[i], ci_lower = s[["2.5 %"]][i], ci_upper = s[["97.5 %"]][i],
    ubar = pp$ubar[k], b = pp$b[k], t = pp$t[k], dfcom = pp$dfcom[k], riv = pp$riv[k],
    lambda = pp$lambda[k], fmi = pp$fmi[k])
}
lsm <- list()
ems <- lapply(fits, function(f) summary(emmeans(f, "TRT01P")))
for (arm in levels(d$TRT01P)) {
  q <- sapply(ems, function(e) e$emmean[e$TRT01P == arm])
  u <- sapply(ems, function(e) e$SE[e$TRT01P == arm]^2)
  ps <- pool.scalar(q, u, n = ems[[1]]$df[1] + 1, k = 1)
  half <- qt(0.975, ps$df) * sqrt(ps$t)
  lsm[[arm]] <- list(estimate = ps$qbar, se = sqrt(ps$t), df = ps$df, fmi = ps$fmi,
                     ci_lower = ps$qbar - half, ci_upper = ps$qbar + half)
}
sato <- function(x1, n1, x0, n0) {
  nn <- n1 + n0; w <- n1 * n0 / nn
  rd <- sum(w * (x1 / n1 - x0 / n0)) / sum(w)
  p <- (n1^2 * x0 - n0^2 * x1 + n1 * n0 * (n0 - n1) / 2) / nn^2
  q <- (x1 * (n0 - x0) + x0 * (n1 - x1)) / (2 * nn)
  c(rd, (rd * sum(p) + sum(q)) / sum(w)^2)
}
responder <- list()
for (arm in c("HIGH", "LOW")) {
  est <- t(sapply(imps, function(j) {
    s1 <- d[d$IMPNUM == j, ]; y <- s1$PCHG <= -50; st <- levels(s1$REGION)
    x1 <- sapply(st, function(k) sum(y[s1$REGION == k & s1$TRT01P == arm]))
    n1 <- sapply(st, function(k) sum(s1$REGION == k & s1$TRT01P == arm))
    x0 <- sapply(st, function(k) sum(y[s1$REGION == k & s1$TRT01P == "PBO"]))
    n0 <- sapply(st, function(k) sum(s1$REGION == k & s1$TRT01P == "PBO"))
    both <- n1 > 0 & n0 > 0
    sato(x1[both], n1[both], x0[both], n0[both])
  }))
  ps <- pool.scalar(est[, 1], est[, 2], n = Inf)
  half <- qt(0.975, ps$df) * sqrt(ps$t)
  responder[[arm]] <- list(
    per_imputation_estimate = est[, 1], per_imputation_variance = est[, 2],
    estimate = ps$qbar, ubar = ps$ubar, b = ps$b, t = ps$t, se = sqrt(ps$t), df = ps$df,
    riv = ps$r, fmi = ps$fmi, ci_lower = ps$qbar - half, ci_upper = ps$qbar + half,
    p_value = 2 * pt(-abs(ps$qbar / sqrt(ps$t)), ps$df))
}
out <- list(ancova = ancova, lsmeans = lsm, responder = responder,
            mice_version = as.character(packageVersion("mice")), r_version = R.version.string)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE), "expected.json")
