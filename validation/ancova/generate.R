# Reference results for atopic.trial.analyze.ancova (run from this folder: Rscript generate.R).
# lm(y ~ arm + BASE [+ REGION + IGABL]) and emmeans with its defaults (covariate at its mean, equal
# weights over strata levels); differences to placebo unadjusted (trt.vs.ctrl, adjust = "none").
library(emmeans); library(jsonlite)
d <- read.csv("data.csv", stringsAsFactors = FALSE, na.strings = "")  # region "NA" is North America
d$TRT01P <- factor(d$TRT01P, levels = c("PBO", "HIGH", "LOW"))
d$REGION <- factor(d$REGION); d$IGABL <- factor(d$IGABL)
models <- list(
  chg_strata = CHG ~ TRT01P + BASE + REGION + IGABL,
  pchg_strata = PCHG ~ TRT01P + BASE + REGION + IGABL,
  chg_nostrata = CHG ~ TRT01P + BASE
)
out <- list()
for (name in names(models)) {
  fit <- lm(models[[name]], data = d)
  emm <- emmeans(fit, "TRT01P")
  ls <- summary(emm, infer = TRUE)
  con <- summary(contrast(emm, "trt.vs.ctrl", ref = 1, adjust = "none"), infer = TRUE)
  out[[name]] <- list(
    n_used = nobs(fit), n_excluded = nrow(d) - nobs(fit), sigma = sigma(fit),
    lsmeans = lapply(setNames(seq_len(nrow(ls)), as.character(ls$TRT01P)), function(i) list(
      estimate = ls$emmean[i], se = ls$SE[i], df = ls$df[i],
      ci_lower = ls$lower.CL[i], ci_upper = ls$upper.CL[i])),
    contrasts = lapply(setNames(seq_len(nrow(con)), sub(" - PBO", "", con$contrast)), function(i) list(
      estimate = con$estimate[i], se = con$SE[i], df = con$df[i],
      ci_lower = con$lower.CL[i], ci_upper = con$upper.CL[i],
      statistic = con$t.ratio[i], p_value = con$p.value[i]))
  )
}
out$r_version <- R.version.string
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE), "expected.json")
