#include "rivet/state/state.h"
