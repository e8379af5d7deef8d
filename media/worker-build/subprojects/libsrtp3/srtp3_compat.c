/*
 * libsrtp 3 entry points used by the mediasoup worker, over libsrtp 2.
 *
 * This file deliberately includes libsrtp 2's own header, not the shim
 * include/srtp.h, because it has to call the real libsrtp 2 functions whose
 * names the shim hides. The prototypes here must match include/srtp.h.
 *
 * Semantics kept from libsrtp 3:
 * - protect reads from one buffer and writes to another whose capacity is
 *   passed in *out_len; libsrtp 2 works in place and assumes room for the
 *   trailer, so the packet is copied into the output buffer first and the
 *   capacity is checked up front (srtp_err_status_buffer_small otherwise);
 * - unprotect may also use separate buffers (the worker passes the same one);
 * - a policy is an opaque heap object configured through setters.
 */
#include <srtp2/srtp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NEXUS_ERR_BUFFER_SMALL ((srtp_err_status_t)28)
/* libsrtp 2 writes the SRTCP index (4 bytes) on top of the auth tag and MKI. */
#define NEXUS_SRTCP_MAX_TRAILER_LEN (SRTP_MAX_TRAILER_LEN + 4)

struct nexus_srtp3_policy {
    srtp_policy_t v2;
    /* libsrtp 2 expects master key and master salt back to back. */
    unsigned char key[SRTP_MAX_KEY_LEN];
};

srtp_err_status_t nexus_srtp3_policy_create(struct nexus_srtp3_policy **policy)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;
    *policy = calloc(1, sizeof(**policy));
    if (*policy == NULL)
        return srtp_err_status_alloc_fail;
    (*policy)->v2.key = (*policy)->key;
    (*policy)->v2.next = NULL;
    return srtp_err_status_ok;
}

void nexus_srtp3_policy_destroy(struct nexus_srtp3_policy *policy)
{
    if (policy == NULL)
        return;
    /* The master key must not linger in freed memory. */
    memset(policy->key, 0, sizeof(policy->key));
    free(policy);
}

srtp_err_status_t nexus_srtp3_policy_set_ssrc(struct nexus_srtp3_policy *policy, srtp_ssrc_t ssrc)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;
    policy->v2.ssrc = ssrc;
    return srtp_err_status_ok;
}

srtp_err_status_t nexus_srtp3_policy_set_profile(struct nexus_srtp3_policy *policy,
                                                 srtp_profile_t profile)
{
    srtp_err_status_t err;

    if (policy == NULL)
        return srtp_err_status_bad_param;
    err = srtp_crypto_policy_set_from_profile_for_rtp(&policy->v2.rtp, profile);
    if (err != srtp_err_status_ok)
        return err;
    return srtp_crypto_policy_set_from_profile_for_rtcp(&policy->v2.rtcp, profile);
}

srtp_err_status_t nexus_srtp3_policy_add_key(struct nexus_srtp3_policy *policy,
                                             const uint8_t *key,
                                             size_t key_len,
                                             const uint8_t *salt,
                                             size_t salt_len,
                                             const uint8_t *mki,
                                             size_t mki_len)
{
    if (policy == NULL || key == NULL || (salt == NULL && salt_len > 0))
        return srtp_err_status_bad_param;
    /* The worker never uses MKI; supporting it would need libsrtp 2's keys[]. */
    if (mki != NULL || mki_len != 0)
        return srtp_err_status_bad_param;
    if (key_len + salt_len > sizeof(policy->key))
        return srtp_err_status_bad_param;
    memcpy(policy->key, key, key_len);
    if (salt_len > 0)
        memcpy(policy->key + key_len, salt, salt_len);
    return srtp_err_status_ok;
}

srtp_err_status_t nexus_srtp3_policy_set_allow_repeat_tx(struct nexus_srtp3_policy *policy,
                                                         bool allow)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;
    policy->v2.allow_repeat_tx = allow ? 1 : 0;
    return srtp_err_status_ok;
}

srtp_err_status_t nexus_srtp3_policy_set_window_size(struct nexus_srtp3_policy *policy,
                                                     size_t window_size)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;
    policy->v2.window_size = (unsigned long)window_size;
    return srtp_err_status_ok;
}

srtp_err_status_t nexus_srtp3_create(srtp_t *session, const struct nexus_srtp3_policy *policy)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;
    return srtp_create(session, &policy->v2);
}

/* Shared by RTP and RTCP: copy into the output buffer, then work in place. */
static srtp_err_status_t protect_into(srtp_t ctx,
                                      const uint8_t *in,
                                      size_t in_len,
                                      uint8_t *out,
                                      size_t *out_len,
                                      size_t mki_index,
                                      bool rtcp)
{
    size_t trailer = rtcp ? NEXUS_SRTCP_MAX_TRAILER_LEN : SRTP_MAX_TRAILER_LEN;
    int len;
    srtp_err_status_t err;

    if (in == NULL || out == NULL || out_len == NULL || in_len > INT32_MAX)
        return srtp_err_status_bad_param;
    if (*out_len < in_len + trailer)
        return NEXUS_ERR_BUFFER_SMALL;
    if (out != in)
        memmove(out, in, in_len);
    len = (int)in_len;
    if (rtcp)
        err = srtp_protect_rtcp_mki(ctx, out, &len, 0, (unsigned int)mki_index);
    else
        err = srtp_protect_mki(ctx, out, &len, 0, (unsigned int)mki_index);
    if (err != srtp_err_status_ok)
        return err;
    *out_len = (size_t)len;
    return srtp_err_status_ok;
}

static srtp_err_status_t unprotect_into(srtp_t ctx,
                                        const uint8_t *in,
                                        size_t in_len,
                                        uint8_t *out,
                                        size_t *out_len,
                                        bool rtcp)
{
    int len;
    srtp_err_status_t err;

    if (in == NULL || out == NULL || out_len == NULL || in_len > INT32_MAX)
        return srtp_err_status_bad_param;
    if (*out_len < in_len)
        return NEXUS_ERR_BUFFER_SMALL;
    if (out != in)
        memmove(out, in, in_len);
    len = (int)in_len;
    err = rtcp ? srtp_unprotect_rtcp(ctx, out, &len) : srtp_unprotect(ctx, out, &len);
    if (err != srtp_err_status_ok)
        return err;
    *out_len = (size_t)len;
    return srtp_err_status_ok;
}

srtp_err_status_t nexus_srtp3_protect(srtp_t ctx,
                                      const uint8_t *rtp,
                                      size_t rtp_len,
                                      uint8_t *srtp,
                                      size_t *srtp_len,
                                      size_t mki_index)
{
    return protect_into(ctx, rtp, rtp_len, srtp, srtp_len, mki_index, false);
}

srtp_err_status_t nexus_srtp3_unprotect(srtp_t ctx,
                                        const uint8_t *srtp,
                                        size_t srtp_len,
                                        uint8_t *rtp,
                                        size_t *rtp_len)
{
    return unprotect_into(ctx, srtp, srtp_len, rtp, rtp_len, false);
}

srtp_err_status_t nexus_srtp3_protect_rtcp(srtp_t ctx,
                                           const uint8_t *rtcp,
                                           size_t rtcp_len,
                                           uint8_t *srtcp,
                                           size_t *srtcp_len,
                                           size_t mki_index)
{
    return protect_into(ctx, rtcp, rtcp_len, srtcp, srtcp_len, mki_index, true);
}

srtp_err_status_t nexus_srtp3_unprotect_rtcp(srtp_t ctx,
                                             const uint8_t *srtcp,
                                             size_t srtcp_len,
                                             uint8_t *rtcp,
                                             size_t *rtcp_len)
{
    return unprotect_into(ctx, srtcp, srtcp_len, rtcp, rtcp_len, true);
}
