# SPDX-License-Identifier: MIT
# Scenario variants: scenarios that differ only in a few tokens (pgmap type,
# refcount scheme, the refcounts those imply) are one template here,
# TEMPLATE.zds.in, and one zd_scenario_variant() line per variant below.
#
#   include() this file, then: each variant is written (configure_file, at
#   configure time) to ${ZD_SCENARIO_OUT}/NAME.zds, and its path appended
#   to ZD_SCENARIO_VARIANTS. tests/CMakeLists.txt registers each as
#   scenario_NAME, as if it were tests/scenarios/NAME.zds.
#
#   cmake -DOUT=DIR -P variants.cmake writes them to DIR (the fuzzer's seeds).
#
# Placeholders a template may use:
#   @TYPE@         the pgmap type (device type=...)
#   @SCHEME@       the refcount scheme, zero or one
#   @SCHEME_KEY@   " scheme=zero|one", or empty for the system's default
#   @SCHEME_NAME@  the scheme in prose
#   @IDLE@         the refcount of a free (idle) page: 1 in the one scheme
#                  and for GENERIC (devdax, generic) pages, else 0 (R3.2, L1)
#   @REF@, @REF_GET@  IDLE + 1 (after allocation), IDLE + 2 (after a get)
#   @PAGE_FREE@    the driver's page_free calls once every page is free
#   @ALLOC_PATH@, @FREE_NOTE@  what allocation and the last put do, in prose

set(ZD_SCENARIO_TEMPLATES ${CMAKE_CURRENT_LIST_DIR})
if(CMAKE_SCRIPT_MODE_FILE AND DEFINED OUT)
  set(ZD_SCENARIO_OUT ${OUT})
endif()
set(ZD_SCENARIO_VARIANTS "")

# zd_scenario_variant(TEMPLATE NAME KEY=VALUE...): write NAME.zds from
# TEMPLATE.zds.in with the KEY=VALUE placeholders and those derived from them.
function(zd_scenario_variant template name)
  set(SCHEME "")
  foreach(kv ${ARGN})
    string(REGEX MATCH "^([A-Z_]+)=(.*)$" ok "${kv}")
    if(NOT ok)
      message(FATAL_ERROR "zd_scenario_variant(${name}): '${kv}' is not KEY=VALUE")
    endif()
    set(${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
  endforeach()

  if(SCHEME STREQUAL "")
    set(SCHEME_KEY "")
    set(SCHEME_NAME "default (zero)")
  else()
    set(SCHEME_KEY " scheme=${SCHEME}")
    set(SCHEME_NAME "${SCHEME}")
  endif()
  if(DEFINED IDLE)
    math(EXPR REF "${IDLE} + 1")
    math(EXPR REF_GET "${IDLE} + 2")
  endif()

  if(TYPE MATCHES "^(private|coherent)$")
    set(ALLOC_PATH "zone_device_folio_init")
    set(FREE_NOTE "The last put calls the driver's folio_free: one page_free call.")
  elseif(TYPE MATCHES "^(devdax|generic)$")
    set(ALLOC_PATH "a mapping reference on the idle page")
    set(FREE_NOTE "GENERIC pages are never freed to a driver: the core resets them to 1 (page_free=0).")
  elseif(TYPE STREQUAL "fsdax")
    set(ALLOC_PATH "a DAX fault's or GUP's reference; an unmapped block stays idle: a stand-in until the DAX file system lands")
    set(FREE_NOTE "fs-dax has no folio_free: the last put only wakes waiters (page_free=0).")
  elseif(TYPE STREQUAL "p2pdma")
    set(ALLOC_PATH "p2pmem_alloc_mmap")
    set(FREE_NOTE "The last put calls the provider's folio_free: one page_free call.")
  endif()

  configure_file(${ZD_SCENARIO_TEMPLATES}/${template}.zds.in ${ZD_SCENARIO_OUT}/${name}.zds @ONLY)
  set(ZD_SCENARIO_VARIANTS ${ZD_SCENARIO_VARIANTS} ${ZD_SCENARIO_OUT}/${name}.zds PARENT_SCOPE)
endfunction()

# ---- lifecycle: one page allocated, referenced again, freed ----
# Every pgmap type in both schemes. PAGE_FREE: 1 where the last put calls
# folio_free, 0 for GENERIC and fs-dax pages.
zd_scenario_variant(lifecycle lifecycle-zero-private  TYPE=private  SCHEME=zero IDLE=0 PAGE_FREE=1)
zd_scenario_variant(lifecycle lifecycle-zero-coherent TYPE=coherent SCHEME=zero IDLE=0 PAGE_FREE=1)
zd_scenario_variant(lifecycle lifecycle-zero-devdax   TYPE=devdax   SCHEME=zero IDLE=1 PAGE_FREE=0)
zd_scenario_variant(lifecycle lifecycle-zero-fsdax    TYPE=fsdax    SCHEME=zero IDLE=0 PAGE_FREE=0)
zd_scenario_variant(lifecycle lifecycle-zero-generic  TYPE=generic  SCHEME=zero IDLE=1 PAGE_FREE=0)
zd_scenario_variant(lifecycle lifecycle-zero-p2pdma   TYPE=p2pdma   SCHEME=zero IDLE=0 PAGE_FREE=1)
zd_scenario_variant(lifecycle lifecycle-one-private   TYPE=private  SCHEME=one  IDLE=1 PAGE_FREE=1)
zd_scenario_variant(lifecycle lifecycle-one-coherent  TYPE=coherent SCHEME=one  IDLE=1 PAGE_FREE=1)
zd_scenario_variant(lifecycle lifecycle-one-devdax    TYPE=devdax   SCHEME=one  IDLE=1 PAGE_FREE=0)
zd_scenario_variant(lifecycle lifecycle-one-fsdax     TYPE=fsdax    SCHEME=one  IDLE=1 PAGE_FREE=0)
zd_scenario_variant(lifecycle lifecycle-one-generic   TYPE=generic  SCHEME=one  IDLE=1 PAGE_FREE=0)
zd_scenario_variant(lifecycle lifecycle-one-p2pdma    TYPE=p2pdma   SCHEME=one  IDLE=1 PAGE_FREE=1)

# ---- compound: two order-9 folios on a 4M device with vmemmap_shift 9 ----
# PAGE_FREE: one call per folio where the last put calls folio_free.
zd_scenario_variant(compound compound-zero-private  TYPE=private  SCHEME=zero IDLE=0 PAGE_FREE=2)
zd_scenario_variant(compound compound-zero-coherent TYPE=coherent SCHEME=zero IDLE=0 PAGE_FREE=2)
zd_scenario_variant(compound compound-zero-devdax   TYPE=devdax   SCHEME=zero IDLE=1 PAGE_FREE=0)
zd_scenario_variant(compound compound-zero-fsdax    TYPE=fsdax    SCHEME=zero IDLE=0 PAGE_FREE=0)
zd_scenario_variant(compound compound-zero-p2pdma   TYPE=p2pdma   SCHEME=zero IDLE=0 PAGE_FREE=2)
zd_scenario_variant(compound compound-one-private   TYPE=private  SCHEME=one  IDLE=1 PAGE_FREE=2)
zd_scenario_variant(compound compound-one-coherent  TYPE=coherent SCHEME=one  IDLE=1 PAGE_FREE=2)
zd_scenario_variant(compound compound-one-devdax    TYPE=devdax   SCHEME=one  IDLE=1 PAGE_FREE=0)
zd_scenario_variant(compound compound-one-fsdax     TYPE=fsdax    SCHEME=one  IDLE=1 PAGE_FREE=0)
zd_scenario_variant(compound compound-one-p2pdma    TYPE=p2pdma   SCHEME=one  IDLE=1 PAGE_FREE=2)

# ---- unbind while a set holds pages ----
# unbind-wait: teardown waits until a thread releases them. An empty SCHEME
# leaves the system's default (zero) in force.
zd_scenario_variant(unbind-wait unbind-wait-private       TYPE=private)
zd_scenario_variant(unbind-wait unbind-wait-private-one   TYPE=private SCHEME=one)
zd_scenario_variant(unbind-wait unbind-wait-fsdax         TYPE=fsdax)
zd_scenario_variant(unbind-wait unbind-wait-fsdax-one     TYPE=fsdax   SCHEME=one)
zd_scenario_variant(unbind-wait unbind-wait-p2pdma-zero   TYPE=p2pdma  SCHEME=zero)
zd_scenario_variant(unbind-wait unbind-wait-devdax-one    TYPE=devdax  SCHEME=one)
zd_scenario_variant(unbind-wait unbind-wait-generic-one   TYPE=generic SCHEME=one)
# unbind-wait-hazard: GENERIC pages in the zero scheme are not waited for (R1.13).
zd_scenario_variant(unbind-wait-hazard unbind-wait-devdax-zero  TYPE=devdax  SCHEME=zero)
zd_scenario_variant(unbind-wait-hazard unbind-wait-generic-zero TYPE=generic SCHEME=zero)
