# SPDX-License-Identifier: GPL-2.0-or-later
#
# Shared by user/lib, user/ctl and user/ksmgroupd: where the outputs go and
# how C is compiled. Included, never run on its own.

KSMG_TOP	:= $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/../..)
KSMG_BUILD	:= $(KSMG_TOP)/build/user
KSMG_UAPI	:= $(KSMG_TOP)/kmod/uapi/ksmgroup.h
# The uAPI header is staged as <linux/ksmgroup.h>, the name it is installed
# under, so that user/lib/ksmgroup.h includes it the same way in the tree and
# on an installed system.
KSMG_STAGED_UAPI := $(KSMG_BUILD)/include/linux/ksmgroup.h

CC		?= cc
AR		?= ar
KSMG_CFLAGS	:= -std=gnu11 -Wall -Wextra -Werror -O2 -g -D_GNU_SOURCE \
		   -I$(KSMG_BUILD)/include -I$(KSMG_TOP)/user/lib \
		   $(EXTRA_CFLAGS)

$(KSMG_STAGED_UAPI): $(KSMG_UAPI)
	@mkdir -p $(dir $@)
	cp $< $@
