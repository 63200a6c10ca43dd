# Reference results for atopic.trial.analyze.binary (run from this folder: Rscript generate.R).
# Base R where R has the method: prop.test (Wilson), fisher.test, mantelhaen.test (CMH test and
# MH odds ratio). R has no base function for the Newcombe, Miettinen-Nurminen or stratified
# (CMH-weighted) MN intervals nor for the Sato variance: they are written here from the papers,
# independently of the Python code (restricted MLEs by root finding on the likelihood score,
# not by the closed-form cubic the Python code uses). Reads data.csv, writes expected.json.
library(jsonlite)
d <- read.csv("data.csv", stringsAsFactors = FALSE, na.strings = "")  # region "NA" is North America
d$STRATUM <- paste(d$REGION, d$IGABL, sep = "/")
level <- 0.95
z <- qnorm(1 - (1 - level) / 2)

wilson <- function(x, n) as.numeric(suppressWarnings(prop.test(x, n, correct = FALSE))$conf.int)

# Newcombe (1998) Stat Med 17:873, method 10
newcombe <- function(x1, n1, x0, n0) {
  p1 <- x1 / n1; p0 <- x0 / n0; w1 <- wilson(x1, n1); w0 <- wilson(x0, n0); dd <- p1 - p0
  c(dd - sqrt((p1 - w1[1])^2 + (w0[2] - p0)^2), dd + sqrt((w1[2] - p1)^2 + (p0 - w0[1])^2))
}

# ML estimates of (p1, p0) under p1 - p0 = delta: root of the log-likelihood score in p0
rmle <- function(x1, n1, x0, n0, delta) {
  term <- function(x, p) if (x == 0) 0 else x / p
  score <- function(p0) {
    p1 <- p0 + delta
    term(x1, p1) - term(n1 - x1, 1 - p1) + term(x0, p0) - term(n0 - x0, 1 - p0)
  }
  lo <- max(0, -delta); hi <- min(1, 1 - delta); eps <- 1e-13
  if (score(lo + eps) <= 0) p0 <- lo
  else if (score(hi - eps) >= 0) p0 <- hi
  else p0 <- uniroot(score, c(lo + eps, hi - eps), tol = 1e-15)$root
  c(p0 + delta, p0)
}

# Stratified Miettinen-Nurminen score statistic with weights w (Miettinen & Nurminen 1985)
score_t <- function(delta, x1, n1, x0, n0, w) {
  num <- sum(w * (x1 / n1 - x0 / n0 - delta))
  if (num == 0) return(0)
  v <- 0
  for (k in seq_along(x1)) {
    r <- rmle(x1[k], n1[k], x0[k], n0[k], delta)
    nk <- n1[k] + n0[k]
    v <- v + w[k]^2 * (r[1] * (1 - r[1]) / n1[k] + r[2] * (1 - r[2]) / n0[k]) * nk / (nk - 1)
  }
  if (v <= 0) return(sign(num) * 1e12)
  num / sqrt(v)
}

smn <- function(x1, n1, x0, n0) {
  w <- n1 * n0 / (n1 + n0); w <- w / sum(w)
  est <- sum(w * (x1 / n1 - x0 / n0)); eps <- 1e-10
  f <- function(delta, target) score_t(delta, x1, n1, x0, n0, w) - target
  lower <- if (est <= -1 + eps || f(-1 + eps, z) <= 0) -1 else
    uniroot(f, c(-1 + eps, est), target = z, tol = 1e-14)$root
  upper <- if (est >= 1 - eps || f(1 - eps, -z) >= 0) 1 else
    uniroot(f, c(est, 1 - eps), target = -z, tol = 1e-14)$root
  c(lower, upper)
}

# Mantel-Haenszel risk difference and Sato (1989) variance, Biometrics 45:1323
sato <- function(x1, n1, x0, n0) {
  nn <- n1 + n0; w <- n1 * n0 / nn
  rd <- sum(w * (x1 / n1 - x0 / n0)) / sum(w)
  p <- (n1^2 * x0 - n0^2 * x1 + n1 * n0 * (n0 - n1) / 2) / nn^2
  q <- (x1 * (n0 - x0) + x0 * (n1 - x1)) / (2 * nn)
  c(rd, sqrt((rd * sum(p) + sum(q)) / sum(w)^2))
}

na_safe <- function(expr) tryCatch(expr, error = function(e) NA_real_)

out <- list(conf_level = level, datasets = list())
for (ds in unique(d$DATASET)) {
  s <- d[d$DATASET == ds, ]
  arms <- list()
  for (a in unique(s$TRT01P)) {
    x <- sum(s$TRT01P == a & s$CRIT1FL == "Y"); n <- sum(s$TRT01P == a); ci <- wilson(x, n)
    arms[[a]] <- list(n = x, N = n, rate = x / n, ci_lower = ci[1], ci_upper = ci[2])
  }
  comps <- list()
  for (a in setdiff(unique(s$TRT01P), "PBO")) {
    t2 <- s[s$TRT01P %in% c(a, "PBO"), ]
    x1 <- sum(t2$TRT01P == a & t2$CRIT1FL == "Y"); n1 <- sum(t2$TRT01P == a)
    x0 <- sum(t2$TRT01P == "PBO" & t2$CRIT1FL == "Y"); n0 <- sum(t2$TRT01P == "PBO")
    nc <- newcombe(x1, n1, x0, n0)
    mn <- smn(x1, n1, x0, n0)
    fp <- fisher.test(matrix(c(x1, n1 - x1, x0, n0 - x0), 2, byrow = TRUE))$p.value
    # per-stratum counts; R's mantelhaen.test needs N_k >= 2, one-arm strata then contribute 0
    st <- sort(unique(t2$STRATUM))
    k1 <- sapply(st, function(k) sum(t2$STRATUM == k & t2$TRT01P == a & t2$CRIT1FL == "Y"))
    m1 <- sapply(st, function(k) sum(t2$STRATUM == k & t2$TRT01P == a))
    k0 <- sapply(st, function(k) sum(t2$STRATUM == k & t2$TRT01P == "PBO" & t2$CRIT1FL == "Y"))
    m0 <- sapply(st, function(k) sum(t2$STRATUM == k & t2$TRT01P == "PBO"))
    big <- m1 + m0 >= 2
    arr <- array(0, dim = c(2, 2, sum(big)))
    arr[1, 1, ] <- k1[big]; arr[1, 2, ] <- (m1 - k1)[big]
    arr[2, 1, ] <- k0[big]; arr[2, 2, ] <- (m0 - k0)[big]
    cmh <- tryCatch(mantelhaen.test(arr, correct = FALSE), error = function(e) NULL)
    both <- m1 > 0 & m0 > 0
    sa <- sato(k1[both], m1[both], k0[both], m0[both])
    ci <- smn(k1[both], m1[both], k0[both], m0[both])
    comps[[a]] <- list(
      estimate = x1 / n1 - x0 / n0,
      newcombe_lower = nc[1], newcombe_upper = nc[2],
      mn_lower = mn[1], mn_upper = mn[2],
      fisher_p = fp,
      cmh_statistic = if (is.null(cmh)) NA else unname(cmh$statistic),
      cmh_p = if (is.null(cmh)) NA else cmh$p.value,
      or_mh = if (is.null(cmh)) NA else unname(cmh$estimate),
      or_lower = if (is.null(cmh)) NA else cmh$conf.int[1],
      or_upper = if (is.null(cmh)) NA else cmh$conf.int[2],
      mh_rd = sa[1], sato_se = sa[2], smn_lower = ci[1], smn_upper = ci[2],
      strata_dropped = st[!both]
    )
  }
  out$datasets[[ds]] <- list(arms = arms, comparisons = comps)
}
out$r_version <- R.version.string
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE), "expected.json")
