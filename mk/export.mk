# mk/export.mk - what builds outside this Makefile read about a board:
# build/<b>/sheap.mk (for a firmware Makefile; filled in from
# mk/sheap.mk.in) and `make print-cmake` (for CMakeLists.txt).

# ---- sheap.mk ----------------------------------------------------------------------
# What an outside firmware Makefile includes.  Only the heap library is
# linked unconditionally; the C library binding, the C++ operators and the
# board support are separate pieces, each its own variable.  LDFLAGS and
# LDLIBS are recursive (=), so that a target-specific SHEAP_LIBC := no (or
# SHEAP_CXX := yes) changes the link of that target alone.  Every path in
# it is absolute: the build directory (B=/abs) may be anywhere.
# Each @NAME@ of the template becomes the value below, verbatim: sed_value
# quotes it for the shell's single quotes and sed's replacement text.  The
# template's own header (its first two lines) is left out.
sed_value = $(subst ','\'',$(subst |,\|,$(subst &,\&,$(subst \,\\,$(1)))))
sheap_mk_sub = -e 's|@$(1)@|$(call sed_value,$(2))|g'
SHEAP_MK_TITLE := $(BOARD)$(if $(FLAVOR), flavour $(FLAVOR))$(if $(LIBC), with $(LIBC))
$(B)/sheap.mk: mk/sheap.mk.in $(BOARD_DIR)/board.mk port/$(PORT)/port.mk Makefile mk/library.mk mk/export.mk
	@mkdir -p $(B)
	@sed -e 1,2d $(call sheap_mk_sub,TITLE,$(SHEAP_MK_TITLE)) $(call sheap_mk_sub,BOARD,$(BOARD)) \
	  $(call sheap_mk_sub,SRC,$(SRC)) $(call sheap_mk_sub,LIB_DIR,$(ABS_B)) \
	  $(call sheap_mk_sub,LIBC_NAME,$(or $(LIBC_TEST),none)) $(call sheap_mk_sub,LIBC_DEFAULT,$(SHEAP_LIBC_DEFAULT)) \
	  $(call sheap_mk_sub,CC,$(CC)) $(call sheap_mk_sub,CXX,$(CXX)) \
	  $(call sheap_mk_sub,ARCH_CFLAGS,$(ARCH_CFLAGS)) $(call sheap_mk_sub,ARCH_LDFLAGS,$(ARCH_LDFLAGS)) \
	  $(call sheap_mk_sub,LDLIBS,$(LDLIBS)) $(call sheap_mk_sub,QEMU,$(QEMU)) mk/sheap.mk.in > $@

# ---- CMake ---------------------------------------------------------------------------
# CMakeLists.txt and cmake/sheap-toolchain.cmake take a board's compiler,
# flags and source lists from here (one place: board.mk, port.mk and mk/),
# by running `make -s BOARD=<b> [FLAVOR=] [LIBC=] print-cmake`, which prints
# them as CMake set() commands.  Paths are relative to the top directory.
.PHONY: print-cmake
cmake_LIBC_NAME = $(LIBC_TEST)
cmake_LIBC_DEFAULT = $(SHEAP_LIBC_DEFAULT)
cmake_CORE_CFLAGS = -std=c11 -ffreestanding -fno-builtin $(CORE_NOLIBCALLS)
cmake_value = $(if $(filter undefined,$(origin cmake_$(1))),$($(1)),$(cmake_$(1)))
cmake_set = printf 'set(SHEAP_MK_%s [==[%s]==])\n' '$(1)' '$(strip $(call cmake_value,$(1)))';
print-cmake:
	@$(foreach v,BOARD FLAVOR LIBC LIBC_NAME LIBC_DEFAULT CC CXX ARCH_CFLAGS ARCH_LDFLAGS LDLIBS CORE_CFLAGS \
	  PORT_CFLAGS WARN PORT CORE_SRC PORT_SRC BOARD_SRC LIBC_SRC CXX_SRC QEMU,$(call cmake_set,$(v)))
