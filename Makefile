# SPDX-License-Identifier: GPL-2.0-only
#
# faultline top-level Makefile, in the style of the kernel's tools/build:
# every folder lists its objects in a Build file (obj-y += x.o), quiet
# "  CC      core/yaml.o" lines unless V=1, out-of-tree builds with O=dir.

MAKEFLAGS	+= -rR
.DEFAULT_GOAL	:= all
VERSION		:= 0.1.0
SUBDIRS		:= core netem cgroup bpf fs tools

srctree		:= $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
ifneq ($(O),)
OUTPUT		:= $(abspath $(O))/
else
OUTPUT		:=
endif
# The build folder as an absolute path, for scripts.
objtree		:= $(or $(OUTPUT),$(srctree)/)

PREFIX		?= /usr/local
DESTDIR		?=
ifneq ($(filter default undefined,$(origin CC)),)
CC		:= gcc
endif
ifneq ($(filter default undefined,$(origin AR)),)
AR		:= ar
endif
CLANG		?= clang
BPFTOOL		?= bpftool
PKG_CONFIG	?= pkg-config

ifeq ($(V),1)
Q		:=
msg		=
else
Q		:= @
msg		= @printf '  %-7s %s\n' '$(1)' '$(patsubst $(objtree)%,%,$(2))';
endif

# Libraries, each with the Debian package that provides it.  CORE_LIBS are
# the core library's (libfaultline-core.a); the engines add the others.
CORE_LIBS	:= yaml-0.1:libyaml-dev json-c:libjson-c-dev
LIBS		:= $(CORE_LIBS) libnl-3.0:libnl-3-dev \
		   libnl-route-3.0:libnl-route-3-dev libmnl:libmnl-dev \
		   libcgroup:libcgroup-dev libbpf:libbpf-dev
TEST_LIBS	:= cmocka:libcmocka-dev
pkg-names	= $(foreach l,$(1),$(word 1,$(subst :, ,$(l))))
# The linker flags of pkg-config names, when a recipe needs them.
pkg-libs	= $(if $(strip $(1)),$(shell $(PKG_CONFIG) --libs $(1)))

# Goals that must work on a machine without the build dependencies, and
# the goals that need cmocka besides (plain make does not).  The check
# goals build their tests with a second make, which checks then.
NOBUILD_GOALS	:= deps help clean distclean check check-host check-vm demo \
		   bench fuzz
goals		:= $(or $(MAKECMDGOALS),all)
ifneq ($(filter-out $(NOBUILD_GOALS),$(goals)),)
NEED_LIBS	:= y
endif
ifneq ($(filter tests,$(goals))$(findstring tests/unit/,$(goals)),)
NEED_TEST_LIBS	:= y
endif
# Objects, the core library and the test programs build without clang and
# bpftool, unless they include a skeleton; any other goal checks first.
nobpf-goal	= $(filter %.o %.a,$(1))$(findstring tests/unit/,$(1))$(findstring \
		  tests/helpers/,$(1))
ifneq ($(strip $(foreach g,$(filter-out $(NOBUILD_GOALS),$(goals)),\
	$(if $(call nobpf-goal,$(g)),,$(g)))),)
NEED_BPF	:= y
endif

need-lib	= $(if $(shell $(PKG_CONFIG) --exists $(word 1,$(subst :, ,$(1))) \
	&& echo y),,$(error missing library $(word 1,$(subst :, ,$(1))): \
	install the Debian package $(word 2,$(subst :, ,$(1))) (or run 'make deps')))
need-tool	= $(if $(shell command -v $(1)),,$(error missing tool $(1): \
	install the Debian package $(2) (or run 'make deps')))
ifeq ($(NEED_LIBS),y)
$(foreach l,$(LIBS),$(call need-lib,$(l)))
ifeq ($(NEED_TEST_LIBS),y)
$(foreach l,$(TEST_LIBS),$(call need-lib,$(l)))
endif
LIB_CFLAGS	:= $(shell $(PKG_CONFIG) --cflags $(call pkg-names,$(LIBS)))
endif
ifeq ($(NEED_BPF),y)
$(call need-tool,$(CLANG),clang)
$(call need-tool,$(BPFTOOL),bpftool)
endif
LIB_LDLIBS	= $(call pkg-libs,$(call pkg-names,$(LIBS)))
CORE_LDLIBS	= $(call pkg-libs,$(call pkg-names,$(CORE_LIBS)))
CMOCKA_LDLIBS	= $(call pkg-libs,cmocka)

WERROR		?=
EXTRA_WARNINGS	:= -Wall -Wextra -Wno-unused-parameter -Wshadow \
		   -Wmissing-prototypes -Wstrict-prototypes -Wformat=2
CFLAGS		?= -g -O2
ifeq ($(SANITIZE),1)
CFLAGS		+= -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS		+= -fsanitize=address,undefined
endif
FL_CFLAGS	:= $(CFLAGS) $(EXTRA_WARNINGS) $(if $(WERROR),-Werror) \
		   -std=gnu11 -D_GNU_SOURCE -DFL_VERSION='"$(VERSION)"' \
		   -I$(objtree) -I$(srctree) $(LIB_CFLAGS)

# BPF programs: compiled against vmlinux.h, turned into skeletons.
VMLINUX_BTF	?= /sys/kernel/btf/vmlinux
VMLINUX_H	?= $(objtree)vmlinux.h
ARCH		:= $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
BPF_CFLAGS	:= -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall \
		   -I$(dir $(VMLINUX_H)) -I$(srctree)
# Programs built against the UAPI headers (netem/partition.bpf.c) find
# <asm/types.h> in the host's multiarch folder.
BPF_CFLAGS	+= -idirafter /usr/include/$(shell $(CC) -dumpmachine)

# Collect each folder's Build file.
# engine-y names the ops tables a folder adds to the binary's engine
# list (tools/engines.c is generated from them, in this order): drop a
# folder's line and the engine is gone from the list, and from nowhere else.
define collect
obj-y :=
bpf-y :=
engine-y :=
include $(srctree)/$(1)/Build
objs-$(1) := $$(addprefix $(OUTPUT)$(1)/,$$(obj-y))
objs	+= $$(objs-$(1))
srcobjs-$(1) := $$(addprefix $(1)/,$$(obj-y))
bpfobjs	+= $$(addprefix $(OUTPUT)$(1)/,$$(bpf-y))
engines	+= $$(engine-y)
endef
objs	:=
bpfobjs	:=
engines	:=
$(foreach d,$(SUBDIRS),$(eval $(call collect,$(d))))
objs	+= $(OUTPUT)tools/engines.o

main-obj	:= $(OUTPUT)tools/faultline.o
lib-objs	:= $(filter-out $(OUTPUT)tools/%,$(objs))
skels		:= $(bpfobjs:.bpf.o=.skel.h)
# The core library: core/ alone, which names no engine and needs only
# CORE_LIBS, for the unit tests.
core-lib	:= $(OUTPUT)libfaultline-core.a
# For tests/Build: every engine's objects, and the libraries they need.
engine-objs	:= $(foreach d,$(filter-out core tools,$(SUBDIRS)),$(srcobjs-$(d)))
engine-libs	:= $(filter-out $(call pkg-names,$(CORE_LIBS)),$(call pkg-names,$(LIBS)))

# Tests: unit tests (cmocka), the runner test binary, the helper programs.
obj-y :=
include $(srctree)/tests/Build
unit-progs	:= $(addprefix $(OUTPUT)tests/unit/,$(unit-y))
runner-objs	:= $(addprefix $(OUTPUT)tests/runner/,$(runner-y))
helper-progs	:= $(addprefix $(OUTPUT)tests/helpers/,$(helper-y))

# BPF skeletons are prerequisites of the objects whose source includes
# them (#include "folder/name.skel.h"), directly or through a header of
# the tree, and of nothing else: core/ builds without clang or bpftool.
# incs: "file:included" words for every quoted include in the tree.
incs		:= $(shell cd '$(srctree)' && grep -H '^.include "[a-z0-9_/.]*"' \
		     $(foreach d,$(SUBDIRS) tests/unit tests/runner,$(d)/*.[ch]) \
		     2>/dev/null | sed 's/:.include "\(.*\)".*/:\1/')
skel-incs	:= $(filter %.skel.h,$(incs))
skels-of	= $(patsubst $(1):%,%,$(filter $(1):%,$(skel-incs)))
skel-deps	= $(sort $(call skels-of,$(1)) $(foreach h,$(filter %.h,\
		  $(patsubst $(1):%,%,$(filter $(1):%,$(incs)))),$(call skels-of,$(h))))
$(foreach c,$(sort $(foreach i,$(incs),$(firstword $(subst :, ,$(i))))),\
	$(if $(filter %.c,$(c)),$(if $(call skel-deps,$(c)),\
	$(eval $(OUTPUT)$(c:.c=.o): $(addprefix $(OUTPUT),$(call skel-deps,$(c)))))))

.DELETE_ON_ERROR:
.SECONDARY: $(skels) $(bpfobjs) $(OUTPUT)core/syscall_names.h \
	$(addsuffix .o,$(helper-progs))
.PHONY: all check check-host check-vm bench demo install clean distclean deps \
	help fuzz \
	tests FORCE

all: $(OUTPUT)faultline

tests: all $(unit-progs) $(OUTPUT)tests/faultline-test $(helper-progs)

# Rebuild everything when the compiler flags change.
$(OUTPUT).cflags: FORCE
	@mkdir -p $(dir $@)
	@echo '$(CC) $(FL_CFLAGS) $(LDFLAGS) $(BPF_CFLAGS)' | cmp -s - $@ || \
		echo '$(CC) $(FL_CFLAGS) $(LDFLAGS) $(BPF_CFLAGS)' > $@

# The engine list, from the Build files' engine-y lines.
$(OUTPUT)tools/engines.c: $(addprefix $(srctree)/,$(addsuffix /Build,$(SUBDIRS)))
	@mkdir -p $(dir $@)
	$(call msg,GEN,$@)
	$(Q){ echo '/* Generated from the Build files'"'"' engine-y lines. */'; \
	  echo '#include "core/faultline.h"'; \
	  echo '#include "tools/cmds.h"'; \
	  for e in $(engines); do echo "extern const struct fl_engine $$e;"; done; \
	  echo 'const struct fl_engine *const fl_builtin_engines[] = {'; \
	  for e in $(engines); do echo "	&$$e,"; done; \
	  echo '};'; \
	  echo 'const size_t fl_builtin_nengines = ARRAY_SIZE(fl_builtin_engines);'; \
	} > $@

$(OUTPUT)tools/engines.o: $(OUTPUT)tools/engines.c $(OUTPUT).cflags
	$(call msg,CC,$@)
	$(Q)$(CC) $(FL_CFLAGS) -MMD -MP -c -o $@ $<

$(OUTPUT)faultline: $(objs) $(OUTPUT).cflags
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(objs) $(LIB_LDLIBS)

# One pattern rule per folder: a pattern must hold a slash to match paths.
define dir_rules
$(OUTPUT)$(1)/%.o: $(srctree)/$(1)/%.c $(OUTPUT).cflags
	@mkdir -p $$(dir $$@)
	$$(call msg,CC,$$@)
	$$(Q)$$(CC) $$(FL_CFLAGS) -MMD -MP -c -o $$@ $$<

$(OUTPUT)$(1)/%.bpf.o: $(srctree)/$(1)/%.bpf.c $$(VMLINUX_H) $(OUTPUT).cflags
	@mkdir -p $$(dir $$@)
	$$(call msg,CLANG,$$@)
	$$(Q)$$(CLANG) $$(BPF_CFLAGS) -MMD -MP -c -o $$@ $$<

$(OUTPUT)$(1)/%.skel.h: $(OUTPUT)$(1)/%.bpf.o
	$$(call msg,GEN,$$@)
	$$(Q)$$(BPFTOOL) gen skeleton $$< name $$(notdir $$(basename $$(basename $$<))) > $$@
endef
$(foreach d,$(SUBDIRS) tests/unit tests/runner,$(eval $(call dir_rules,$(d))))

# The tests' helpers are instruments, not the code under test: built
# without the sanitizers, so that SANITIZE=1 does not slow down what a
# test times with them (a probe's udpprobe started 90 ms late under ASan).
nosan		= $(filter-out -fsanitize=% -fno-omit-frame-pointer,$(1))
$(OUTPUT)tests/helpers/%.o: $(srctree)/tests/helpers/%.c $(OUTPUT).cflags
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(call nosan,$(FL_CFLAGS)) -MMD -MP -c -o $@ $<

ifeq ($(origin VMLINUX_H),file)
$(VMLINUX_H):
	@mkdir -p $(dir $@)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@
endif


$(core-lib): $(objs-core)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# A unit test links its object and the core library; one that tests an
# engine's pure code names those objects in tests/Build (NAME-objs, paths
# from the source tree) and the pkg-config names they need (NAME-libs).
define unit_rule
$(OUTPUT)tests/unit/$(1): $(OUTPUT)tests/unit/$(1).o \
		$(addprefix $(OUTPUT),$($(1)-objs)) $(core-lib) $(srctree)/tests/Build
	$$(call msg,LD,$$@)
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$(filter-out %/Build,$$^) \
		$$(call pkg-libs,$($(1)-libs)) $$(CORE_LDLIBS) $$(CMOCKA_LDLIBS)
endef
$(foreach u,$(unit-y),$(eval $(call unit_rule,$(u))))

$(OUTPUT)tests/faultline-test: $(filter-out $(OUTPUT)tools/main.o,$(objs)) \
			      $(runner-objs)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIB_LDLIBS)

$(OUTPUT)tests/helpers/%: $(OUTPUT)tests/helpers/%.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(call nosan,$(LDFLAGS)) -o $@ $^

-include $(objs:.o=.d) $(bpfobjs:.o=.d) $(runner-objs:.o=.d) \
	$(addsuffix .d,$(unit-progs) $(helper-progs))

# Each of these installs what is missing first, so that one command alone
# sets up a fresh Debian machine.
# With SANITIZE=1, unit and host tests only: the VM guests have no ASan
# runtime.
# The VM tests' fault-injection kernel (tools/vmkernel) builds in the
# background (nice) while the unit and host tests run, the first time.
check: deps
ifneq ($(SANITIZE),1)
	$(Q)OUTPUT=$(objtree) $(srctree)/tools/vmkernel --background fault-injection || true
endif
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)OUTPUT=$(objtree) $(srctree)/tests/run $(if $(filter 1,$(SANITIZE)),host,all)

check-host: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)OUTPUT=$(objtree) $(srctree)/tests/run host

check-vm: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)OUTPUT=$(objtree) $(srctree)/tests/run vm

# The loader fuzzer: every library source built again by clang with
# libFuzzer, ASan and UBSan, then run FUZZ_TIME seconds over a seed corpus
# of examples, invalid experiments and past crashes (tests/fuzz/corpus/).
FUZZ_TIME	?= 120
fuzz-prog	:= $(OUTPUT)tests/fuzz/fuzz_experiment
fuzz-srcs	:= $(srctree)/tests/fuzz/fuzz_experiment.c \
		   $(patsubst $(OUTPUT)%.o,$(srctree)/%.c,$(lib-objs)) \
		   $(OUTPUT)tools/engines.c
FUZZ_CFLAGS	:= -g -O1 -fsanitize=fuzzer,address,undefined \
		   -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
		   $(filter-out $(CFLAGS) $(EXTRA_WARNINGS) -Werror,$(FL_CFLAGS))

$(fuzz-prog): $(fuzz-srcs) $(wildcard $(srctree)/*/*.h) $(skels) \
		$(OUTPUT)core/syscall_names.h $(OUTPUT).cflags
	@mkdir -p $(dir $@)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $(fuzz-srcs) $(LIB_LDLIBS)

fuzz: deps
	$(Q)$(MAKE) --no-print-directory $(fuzz-prog)
	@mkdir -p $(OUTPUT)tests/fuzz/new
	$(call msg,RUN,$(fuzz-prog) ($(FUZZ_TIME)s))
	$(Q)cd $(objtree)tests/fuzz && ./fuzz_experiment -max_total_time=$(FUZZ_TIME) \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix=$(objtree)tests/fuzz/ new \
		$(srctree)/tests/fuzz/corpus $(srctree)/examples \
		$(srctree)/tests/invalid 2>fuzz.log || \
		{ tail -n 60 fuzz.log; echo 'fuzz: crash, see' \
		  '$(objtree)tests/fuzz/crash-* and fuzz.log' >&2; exit 1; }
	$(Q)grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units)' \
		$(objtree)tests/fuzz/fuzz.log | sed 's/^/  /'

bench: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)OUTPUT=$(objtree) $(srctree)/tests/bench/run

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)OUTPUT=$(objtree) $(srctree)/tools/demo

deps:
	$(Q)$(srctree)/tools/deps

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(OUTPUT)faultline $(DESTDIR)$(PREFIX)/sbin/faultline
	install -m 0644 $(srctree)/docs/faultline.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 $(srctree)/docs/faultline.yaml.5 $(DESTDIR)$(PREFIX)/share/man/man5/

clean:
	$(call msg,CLEAN,faultline)
	$(Q)rm -f $(OUTPUT)faultline $(OUTPUT)vmlinux.h $(OUTPUT).cflags \
		$(OUTPUT)tests/faultline-test $(OUTPUT)tools/engines.c $(core-lib) \
		$(OUTPUT)core/syscall_names.h
	$(Q)for d in $(SUBDIRS) tests; do \
		[ -d $(OUTPUT)$$d ] && find $(OUTPUT)$$d \( -name '*.o' -o -name '*.d' \
			-o -name '*.skel.h' \) -delete; done; true
	$(Q)rm -f $(unit-progs) $(helper-progs) $(fuzz-prog)
	$(Q)rm -rf $(OUTPUT)tests/fuzz/new $(OUTPUT)tests/fuzz/fuzz.log
	$(Q)rm -rf $(OUTPUT)tests/out $(OUTPUT)vm/console-*.log

# clean, and the stock kernel and initramfs cached for the VM tests.
distclean: clean
	$(Q)rm -rf $(OUTPUT)vm

help:
	@echo 'faultline $(VERSION): Linux fault injection drills'
	@echo
	@echo 'Targets:'
	@echo '  all        build ./faultline (default)'
	@echo '  check      install what is missing, then run every test (root)'
	@echo '  check-host the fast part: unit and host tests only'
	@echo '  check-vm   only the tests under the stock kernel in QEMU'
	@echo '  tests      build the tests only: unit tests (cmocka), tests/helpers/'
	@echo '  fuzz       fuzz the experiment loader for FUZZ_TIME seconds (120)'
	@echo '  bench      benchmarks against tc, iptables and strace'
	@echo '  demo       run the demo drill in a sandbox (root)'
	@echo '  install    install to $$(DESTDIR)$$(PREFIX) (sbin, share/man)'
	@echo '  deps       apt-get install every build and test dependency'
	@echo '  clean      remove what the build made'
	@echo '  distclean  clean, and the kernel cached for the VM tests'
	@echo
	@echo 'Options: V=1 (show commands), O=dir (build out of tree),'
	@echo '         WERROR=1, SANITIZE=1, VMLINUX_H=path, PREFIX, DESTDIR'

# Syscall names for this architecture, from the kernel headers.
$(OUTPUT)core/syscall_names.h: $(OUTPUT).cflags
	@mkdir -p $(dir $@)
	$(call msg,GEN,$@)
	$(Q)echo '#include <sys/syscall.h>' | $(CC) -E -dM - | \
		sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9][0-9]*\)$$/{ "\1", \2 },/p' | \
		LC_ALL=C sort > $@
$(OUTPUT)core/units.o: $(OUTPUT)core/syscall_names.h
