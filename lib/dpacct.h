/* dpacct.h - differential-privacy accounting for DP-SGD.
 *
 * Include this one header; it brings in every accounting module of
 * libdpacct.  The reference trainer has its own header, <dpacct/train.h>,
 * and library (-ldpacct_train, pkg-config dpacct-train), so that
 * accounting users need not link zlib. */
#ifndef DPACCT_H
#define DPACCT_H

#include <dpacct/status.h>
#include <dpacct/event.h>
#include <dpacct/accountant.h>
#include <dpacct/rdp.h>
#include <dpacct/calibrate.h>
#include <dpacct/lap2.h>
#include <dpacct/plan.h>
#include <dpacct/sampler.h>

#endif
