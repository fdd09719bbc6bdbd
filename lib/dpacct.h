/* dpacct.h - differential-privacy accounting for DP-SGD.
 *
 * Include this one header; it brings in every module of libdpacct. */
#ifndef DPACCT_H
#define DPACCT_H

#include <dpacct/status.h>
#include <dpacct/event.h>
#include <dpacct/accountant.h>
#include <dpacct/rdp.h>
#include <dpacct/calibrate.h>
#include <dpacct/lap2.h>
#include <dpacct/plan.h>
#include <dpacct/train.h>
#include <dpacct/sampler.h>

#endif
