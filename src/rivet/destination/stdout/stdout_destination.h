// Stdout destination: data, and only data, goes to standard output.
#pragma once

#include <memory>

#include "rivet/destination/destination.h"

namespace rivet::destination {

std::unique_ptr<Destination> MakeStdoutDestination();

}  // namespace rivet::destination
