"""forecast.py: aiops-train's forecasters against statsmodels, on NAB series, in the same run.

For each series (three NAB files of 4k to 23k points, sorted by time), the time of a whole
`aiops-train` run (read the tensor, fit, score the training data for the threshold, write the
model) against statsmodels fitting the same model class on the same values in-process:
  arima:p=2;d=1            vs statsmodels.tsa.arima.model.ARIMA(order=(2, 1, 0)).fit()
  holtwinters:period=P     vs statsmodels ExponentialSmoothing(trend="add", seasonal="add",
                              seasonal_periods=P).fit()
The estimators are not the same: aiops fits ARIMA's AR part by least squares (LAPACK) and
Holt-Winters' smoothing constants by a small grid, statsmodels by exact likelihood and by
numerical optimisation. So the ratio is the cost of getting a model of this class from each
tool, not of one algorithm; test-fam-ar and test-fam-hw check the fitted values against
statsmodels on data where the estimators agree. To show the models are of use, the one-step
mean absolute error of each on the series' last 20% (fitted on the first 80%) is recorded too.

Median of REPEAT runs each. Writes $AIOPS_BENCH_DIR/forecast.json with "ratios" (time of
statsmodels / time of aiops) for the report. Target: ARIMA >= 10x faster than statsmodels
(the train issue's figure); Holt-Winters has none.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
import benchlib  # noqa: E402
from benchlib import say  # noqa: E402
TOP = os.environ.get("TOP") or os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("AIOPS_BIN") or os.path.join(TOP, "build", "bin")
BENCH = os.environ.get("AIOPS_BENCH_DIR") or os.path.join(TOP, "build", "bench")
SHARED = os.environ.get("AIOPS_SHARED") or os.path.join(TOP, "..", "shared")
STRICT = os.environ.get("AIOPS_BENCH_STRICT", "") not in ("", "0")
REPEAT = 3
NAB = os.path.join(SHARED, "datasets", "nab", "data")
# (file, Holt-Winters period in samples: one day)
SERIES = [("realKnownCause/machine_temperature_system_failure.csv", 288),
          ("realKnownCause/ambient_temperature_system_failure.csv", 24),
          ("realAWSCloudwatch/ec2_cpu_utilization_5f5533.csv", 288)]


def aiops_fit(tensor, space, model):
    t = time.perf_counter()
    p = subprocess.run([os.path.join(BIN, "aiops-train"), "-q", "--space", space, "-o", model,
                        tensor], capture_output=True, text=True)
    return time.perf_counter() - t, p


def sm_fit(kind, y, period):
    from statsmodels.tsa.arima.model import ARIMA
    from statsmodels.tsa.holtwinters import ExponentialSmoothing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        if kind == "arima":
            r = ARIMA(y, order=(2, 1, 0)).fit()
        else:
            r = ExponentialSmoothing(y, trend="add", seasonal="add",
                                     seasonal_periods=period).fit()
        return time.perf_counter() - t, r


def aiops_holdout_mae(work, full, y, space):
    """One-step MAE of aiops on the last 20% of the rows, the model fitted on the first 80%;
    returns (MAE, the number of training rows)."""
    tr = os.path.join(work, "h.train.tensor")
    model = os.path.join(work, "h.model")
    out = os.path.join(work, "h.scores.csv")
    subprocess.run([os.path.join(BIN, "aiops-ingest"), "-q", "--split", "0.8", "-o",
                    os.path.join(work, "h"), full], check=True)
    info = subprocess.run([os.path.join(BIN, "aiops-ingest"), "--info", tr],
                          capture_output=True, text=True, check=True).stdout
    n_train = json.loads(info)["rows"]
    subprocess.run([os.path.join(BIN, "aiops-train"), "-q", "--space", space, "-o", model, tr],
                   check=True)
    subprocess.run([os.path.join(BIN, "aiops-eval"), "-q", "-o", out, model, full], check=True)
    sc = pd.read_csv(out)
    f = sc["forecast.value"].to_numpy()[n_train:]
    y = y[n_train:]
    ok = np.isfinite(f)
    return float(np.mean(np.abs(f[ok] - y[ok]))), n_train


def sm_holdout_mae(kind, y, n_train, period):
    from statsmodels.tsa.arima.model import ARIMA
    from statsmodels.tsa.holtwinters import ExponentialSmoothing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "arima":
            r = ARIMA(y[:n_train], order=(2, 1, 0)).fit()
            pred = r.apply(y).predict(start=n_train, end=len(y) - 1)
        else:
            m = ExponentialSmoothing(y[:n_train], trend="add", seasonal="add",
                                     seasonal_periods=period).fit()
            # the fitted constants, filtered over the whole series: one-step forecasts
            full = ExponentialSmoothing(y, trend="add", seasonal="add",
                                        seasonal_periods=period).fit(
                smoothing_level=m.params["smoothing_level"],
                smoothing_trend=m.params["smoothing_trend"],
                smoothing_seasonal=m.params["smoothing_seasonal"], optimized=False)
            pred = full.fittedvalues[n_train:]
    return float(np.mean(np.abs(np.asarray(pred) - y[n_train:])))


def main():
    t0 = time.perf_counter()
    errors, missed = [], []
    res = {"series": {}, "ratios": []}
    work = tempfile.mkdtemp(prefix="forecast.", dir=BENCH if os.path.isdir(BENCH) else None)
    per_kind = {"arima": [], "holtwinters": []}
    for rel, period in SERIES:
        path = os.path.join(NAB, rel)
        if not os.path.exists(path):
            errors.append("%s: missing" % path)
            continue
        tensor = os.path.join(work, "s.tensor")
        subprocess.run([os.path.join(BIN, "aiops-ingest"), "-q", "--sort", "-o", tensor, path],
                       check=True)
        # the values as aiops reads them (rows of one timestamp combined), for both tools
        csv = subprocess.run([os.path.join(BIN, "aiops-ingest"), "-O", "csv", tensor],
                             capture_output=True, text=True, check=True).stdout
        y = np.array([float(line.split(",")[1]) for line in csv.splitlines()[1:]])
        row = {"points": len(y)}
        for kind, space in (("arima", "arima:p=2;d=1"),
                            ("holtwinters", "holtwinters:period=%d" % period)):
            ta, ts = [], []
            for _ in range(REPEAT):
                t, p = aiops_fit(tensor, space, os.path.join(work, "m.model"))
                if p.returncode != 0:
                    errors.append("%s %s: aiops-train failed: %s" % (rel, space, p.stderr.strip()))
                    break
                ta.append(t)
                ts.append(sm_fit(kind, y, period)[0])
            if not ta:
                continue
            a, s = statistics.median(ta), statistics.median(ts)
            try:
                mae_a, n_train = aiops_holdout_mae(work, tensor, y, space)
                mae_s = sm_holdout_mae(kind, y, n_train, period)
            except Exception as ex:  # noqa: BLE001 - recorded, not fatal
                errors.append("%s %s: holdout: %s" % (rel, kind, ex))
                mae_a = mae_s = None
            row[kind] = {"aiops_s": round(a, 4), "statsmodels_s": round(s, 4),
                         "ratio": round(s / a, 2), "holdout_mae_aiops": mae_a,
                         "holdout_mae_statsmodels": mae_s}
            per_kind[kind].append(s / a)
            say("%-55s %-11s aiops %.3f s, statsmodels %.3f s: %.1fx; one-step MAE on the last "
                "20%%: aiops %s, statsmodels %s" % (rel, kind, a, s, s / a,
                                                    "%.4g" % mae_a if mae_a is not None else "-",
                                                    "%.4g" % mae_s if mae_s is not None else "-"))
        res["series"][rel] = row
    for kind, what, target in (
            ("arima", "ARIMA(2,1,0) fit on NAB series, time vs statsmodels ARIMA", 10.0),
            ("holtwinters", "Holt-Winters fit on NAB series, time vs statsmodels "
             "ExponentialSmoothing", None)):
        if per_kind[kind]:
            g = float(np.exp(np.mean(np.log(per_kind[kind]))))
            res["ratios"].append({"what": what + " (geometric mean of %d)" % len(per_kind[kind]),
                                  "peer": "statsmodels", "value": round(g, 2), "target": target,
                                  "op": ">="})
            say("%s: %.1fx (geometric mean)%s" % (what, g, "" if target is None else
                                                   ", target >= %gx" % target))
            if target is not None and g < target:
                missed.append(kind + "_ratio")
    shutil.rmtree(work, ignore_errors=True)
    return benchlib.finish("forecast", BENCH, res, t0, errors, missed, STRICT)


if __name__ == "__main__":
    sys.exit(main())
