// Random guest port traffic against a device: random port in the given
// ranges, random size and value, with virtual time moving on in between.
// The device must not crash, trip a sanitizer, or hang.
#pragma once
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "io/clock.h"
#include "io/port_bus.h"

namespace pc64::test {

inline void fuzz_ports(PortBus& ports, VirtualClock* clock, const std::vector<std::pair<uint16_t, uint16_t>>& ranges,
                       unsigned accesses, uint32_t seed) {
  std::mt19937 rng(seed);
  for (unsigned i = 0; i < accesses; ++i) {
    const auto& r = ranges[rng() % ranges.size()];
    uint16_t port = static_cast<uint16_t>(r.first + rng() % r.second);
    static constexpr unsigned kSizes[3] = {1, 2, 4};
    unsigned size = kSizes[rng() % 3];
    if (rng() & 1)
      ports.port_write(port, size, rng());
    else
      (void)ports.port_read(port, size);
    if (clock && (rng() % 4) == 0) clock->advance_to(clock->now() + rng() % 2000000);
  }
}

}  // namespace pc64::test
