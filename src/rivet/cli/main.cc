#include <cstdio>

int main() {
  std::puts("rivet " RIVET_VERSION);
  return 0;
}
