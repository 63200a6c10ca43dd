# Reference results for atopic.trial.analyze.trend (run from this folder: Rscript generate.R).
# Data: the responder data of ../binary/data.csv (made by ../binary/make_data.py).
# Cochran-Armitage: prop.trend.test; linear-by-linear: (N - 1) r^2 with r = cor(score, response)
# over subjects (Agresti 2013, sec. 3.4.1), computed here from the subject-level data.
library(jsonlite)
d <- read.csv("../binary/data.csv", stringsAsFactors = FALSE, na.strings = "")
out <- list()
for (ds in c("main", "sparse")) {
  s <- d[d$DATASET == ds, ]
  y <- as.numeric(s$CRIT1FL == "Y")
  for (sc in c("dose", "rank")) {
    score_of <- if (sc == "dose") c(PBO = 0, LOW = 25, HIGH = 100) else c(PBO = 0, LOW = 1, HIGH = 2)
    arms <- intersect(names(score_of), unique(s$TRT01P))
    x <- sapply(arms, function(a) sum(y[s$TRT01P == a])); n <- sapply(arms, function(a) sum(s$TRT01P == a))
    ca <- suppressWarnings(prop.trend.test(x, n, score = score_of[arms]))  # 2 groups: exact fit
    r <- cor(score_of[s$TRT01P], y); N <- length(y)
    out[[paste(ds, sc, sep = "_")]] <- list(
      arms = arms, x = unname(x), n = unname(n), scores = unname(score_of[arms]),
      ca_statistic = unname(ca$statistic), ca_p = ca$p.value,
      lbl_statistic = (N - 1) * r^2, lbl_p = pchisq((N - 1) * r^2, 1, lower.tail = FALSE)
    )
  }
}
out$r_version <- R.version.string
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE), "expected.json")
