# Board layer for QEMU mps2-an386 (Cortex-M4): include() this from a Cortex-M build, then link firmware
# with tlsgen_board_mps2_an386. The same as tlsgen_board(mps2-an386 lib) of boards/boards.cmake, where
# every board is (tlsgen_board_for_cpu() picks one by a profile's target.cpu).
include_guard(GLOBAL)
include("${CMAKE_CURRENT_LIST_DIR}/../boards.cmake")
tlsgen_board(mps2-an386 _tlsgen_board_an386)
