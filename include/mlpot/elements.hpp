#pragma once
// Chemical elements by atomic number.
#include <string>

namespace mlpot {

// Element symbol of atomic number z (1..118), "X" otherwise; and back (0 if unknown).
std::string element_symbol(int z);
int atomic_number(const std::string& symbol);

}  // namespace mlpot
