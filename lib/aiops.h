/* aiops.h - the whole public API of libaiops. */
#ifndef AIOPS_H
#define AIOPS_H

#include "base.h"
#include "source.h"
#include "parse.h"
#include "csv.h"
#include "tensor.h"
#include "series.h"
#include "ingest.h"
#include "model.h"
#include "metrics.h"
#include "search.h"
#include "train.h"
#include "artifact.h"
#include "oci.h"
#include "registry.h"
#include "gitlab.h"
#include "forecast.h"
#include "score.h"
#include "evalmetrics.h"
#include "plot.h"
#include "drain.h"
#include "logs.h"
#include "traces.h"
#include "cmdutil.h"

#endif
