// QEMU mps2-an385 running an ARMv6-M image (a cortex-m0plus profile whose heap and stack do not fit the
// microbit's 16 KB): ARMv6-M is a subset of the M3's ARMv7-M, so the image runs unchanged. The profile
// sweep uses it (tools/sweep/sweep.cmake). The board is the mps2-an385 in all but the core the image is built
// for (boards/boards.cmake), so its configuration is that board's.
#pragma once

#include "../mps2-an385/board_config.hpp"
