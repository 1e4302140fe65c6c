#include "rivet/pipeline/pipeline.h"
