/*
 * libsrtp 3 API subset used by the mediasoup worker, implemented over
 * Debian's libsrtp 2 (libsrtp2-dev). See srtp3_compat.c and
 * media/worker-build/README.md.
 *
 * libsrtp 2's header declares a struct named srtp_policy_t and protect /
 * unprotect / create functions whose names libsrtp 3 reuses with other
 * signatures. Those names are renamed while the libsrtp 2 header is read and
 * then redefined to point at the nexus_srtp3_* implementations, so the worker
 * sees only the libsrtp 3 shapes and the real libsrtp 2 symbols stay untouched.
 */
#ifndef NEXUS_SRTP3_COMPAT_H
#define NEXUS_SRTP3_COMPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define srtp_policy_t nexus_srtp2_policy_t
#define srtp_create nexus_srtp2_create_hidden
#define srtp_protect nexus_srtp2_protect_hidden
#define srtp_unprotect nexus_srtp2_unprotect_hidden
#define srtp_protect_rtcp nexus_srtp2_protect_rtcp_hidden
#define srtp_unprotect_rtcp nexus_srtp2_unprotect_rtcp_hidden
#include <srtp2/srtp.h>
#undef srtp_policy_t
#undef srtp_create
#undef srtp_protect
#undef srtp_unprotect
#undef srtp_protect_rtcp
#undef srtp_unprotect_rtcp

/* Error codes that only exist in libsrtp 3; libsrtp 2 never returns them. */
#define srtp_err_status_buffer_small ((srtp_err_status_t)28)
#define srtp_err_status_cryptex_err ((srtp_err_status_t)29)

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nexus_srtp3_policy *srtp_policy_t;

srtp_err_status_t nexus_srtp3_policy_create(srtp_policy_t *policy);
void nexus_srtp3_policy_destroy(srtp_policy_t policy);
srtp_err_status_t nexus_srtp3_policy_set_ssrc(srtp_policy_t policy, srtp_ssrc_t ssrc);
srtp_err_status_t nexus_srtp3_policy_set_profile(srtp_policy_t policy, srtp_profile_t profile);
srtp_err_status_t nexus_srtp3_policy_add_key(srtp_policy_t policy,
                                             const uint8_t *key,
                                             size_t key_len,
                                             const uint8_t *salt,
                                             size_t salt_len,
                                             const uint8_t *mki,
                                             size_t mki_len);
srtp_err_status_t nexus_srtp3_policy_set_allow_repeat_tx(srtp_policy_t policy, bool allow);
srtp_err_status_t nexus_srtp3_policy_set_window_size(srtp_policy_t policy, size_t window_size);
srtp_err_status_t nexus_srtp3_create(srtp_t *session, const srtp_policy_t policy);
srtp_err_status_t nexus_srtp3_protect(srtp_t ctx,
                                      const uint8_t *rtp,
                                      size_t rtp_len,
                                      uint8_t *srtp,
                                      size_t *srtp_len,
                                      size_t mki_index);
srtp_err_status_t nexus_srtp3_unprotect(srtp_t ctx,
                                        const uint8_t *srtp,
                                        size_t srtp_len,
                                        uint8_t *rtp,
                                        size_t *rtp_len);
srtp_err_status_t nexus_srtp3_protect_rtcp(srtp_t ctx,
                                           const uint8_t *rtcp,
                                           size_t rtcp_len,
                                           uint8_t *srtcp,
                                           size_t *srtcp_len,
                                           size_t mki_index);
srtp_err_status_t nexus_srtp3_unprotect_rtcp(srtp_t ctx,
                                             const uint8_t *srtcp,
                                             size_t srtcp_len,
                                             uint8_t *rtcp,
                                             size_t *rtcp_len);

#ifdef __cplusplus
}
#endif

#define srtp_policy_create nexus_srtp3_policy_create
#define srtp_policy_destroy nexus_srtp3_policy_destroy
#define srtp_policy_set_ssrc nexus_srtp3_policy_set_ssrc
#define srtp_policy_set_profile nexus_srtp3_policy_set_profile
#define srtp_policy_add_key nexus_srtp3_policy_add_key
#define srtp_policy_set_allow_repeat_tx nexus_srtp3_policy_set_allow_repeat_tx
#define srtp_policy_set_window_size nexus_srtp3_policy_set_window_size
#define srtp_create nexus_srtp3_create
#define srtp_protect nexus_srtp3_protect
#define srtp_unprotect nexus_srtp3_unprotect
#define srtp_protect_rtcp nexus_srtp3_protect_rtcp
#define srtp_unprotect_rtcp nexus_srtp3_unprotect_rtcp

/* Same function, renamed in libsrtp 3. */
#define srtp_stream_remove srtp_remove_stream

#endif
