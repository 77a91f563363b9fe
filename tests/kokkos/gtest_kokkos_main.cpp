// GoogleTest main that holds Kokkos initialised for all tests of the binary.
#include <gtest/gtest.h>

#include "mlpot/mtp_potential.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  mlpot::KokkosRuntime runtime;
  return RUN_ALL_TESTS();
}
