# Reference results for atopic.trial.analyze.biomarkers (run from this folder: Rscript generate.R).
# Per arm: exp(t.test(log(AVAL / BASE))). Between arms: lm(log(AVAL / BASE) ~ arm + log(BASE)
# [+ REGION]) with emmeans (defaults), exponentiated; differences unadjusted (trt.vs.ctrl).
library(emmeans); library(jsonlite)
d <- read.csv("data.csv", stringsAsFactors = FALSE, na.strings = "")  # region "NA" is North America
d$TRT01P <- factor(d$TRT01P, levels = c("PBO", "HIGH", "LOW"))
d$REGION <- factor(d$REGION)
out <- list()
for (p in c("IGE", "EOS")) {
  s <- d[d$PARAMCD == p & !is.na(d$AVAL), ]
  s$LR <- log(s$AVAL / s$BASE); s$LB <- log(s$BASE)
  arms <- list()
  for (a in levels(s$TRT01P)) {
    tt <- t.test(s$LR[s$TRT01P == a])
    arms[[a]] <- list(n = sum(s$TRT01P == a), gmr = exp(unname(tt$estimate)),
                      ci_lower = exp(tt$conf.int[1]), ci_upper = exp(tt$conf.int[2]),
                      sd_log = sd(s$LR[s$TRT01P == a]))
  }
  for (adj in c("strata", "nostrata")) {
    f <- if (adj == "strata") LR ~ TRT01P + LB + REGION else LR ~ TRT01P + LB
    fit <- lm(f, data = s)
    emm <- emmeans(fit, "TRT01P")
    ls <- summary(emm, infer = TRUE)
    con <- summary(contrast(emm, "trt.vs.ctrl", ref = 1, adjust = "none"), infer = TRUE)
    out[[paste(p, adj, sep = "_")]] <- list(
      n_missing = sum(d$PARAMCD == p & is.na(d$AVAL)), n_used = nobs(fit), arms = arms,
      adjusted = lapply(setNames(seq_len(nrow(ls)), as.character(ls$TRT01P)), function(i) list(
        gmr = exp(ls$emmean[i]), ci_lower = exp(ls$lower.CL[i]), ci_upper = exp(ls$upper.CL[i]))),
      ratios = lapply(setNames(seq_len(nrow(con)), sub(" - PBO", "", con$contrast)), function(i) list(
        estimate = exp(con$estimate[i]), ci_lower = exp(con$lower.CL[i]), ci_upper = exp(con$upper.CL[i]),
        statistic = con$t.ratio[i], df = con$df[i], p_value = con$p.value[i]))
    )
  }
}
out$r_version <- R.version.string
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE), "expected.json")
