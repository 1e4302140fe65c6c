// Runs exports: source -> batches -> format writer -> destination, with state and summary.
#pragma once
