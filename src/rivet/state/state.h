// State store (SQLite): run metrics, file manifest, cursors, schema history, chunk plans.
#pragma once
