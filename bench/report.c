#include "bench/report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* A number, or null (JSON) / empty (CSV) when unknown (negative). */
static void num(FILE *f, double v, const char *fmt, const char *unknown)
{
    if (v < 0 || isnan(v))
        fputs(unknown, f);
    else
        fprintf(f, fmt, v);
}

static void row(FILE *f, const char *name, double v, const char *fmt, const char *unit)
{
    fprintf(f, "  %-34s ", name);
    num(f, v, fmt, "n/a");
    fprintf(f, " %s\n", unit);
}

static void ramp_table(FILE *f, const bench_result *r)
{
    fprintf(f, "\n  ramp: capacity %u participants; stopped: %s\n", r->capacity, r->ramp_stop);
    fprintf(f, "  %6s %8s %9s %8s %9s %8s %8s %8s %8s %9s %8s %s\n", "parts", "sfu cpu",
            "bench cpu", "us/pkt", "fwd pkt/s", "loss %", "p50 ms", "p95 ms", "p99 ms",
            "p99 app", "RSS MiB", "");
    for (unsigned i = 0; i < r->nsteps; i++) {
        const bench_ramp_step *s = &r->steps[i];
        fprintf(f, "  %6u %7.0f%% %8.0f%% %8.2f %9.0f %8.3f %8.2f %8.2f %8.2f %9.2f %8.1f %s\n",
                s->participants, s->sfu_cpu_ratio * 100, s->bench_cpu_ratio * 100,
                s->cpu_us_per_packet, s->forwarded_pps, s->loss_ratio * 100, s->latency_ms_p50,
                s->latency_ms_p95, s->latency_ms_p99, s->latency_app_ms_p99,
                (double)s->sfu_rss_bytes / 1048576, s->passed ? "" : "<- over a limit");
    }
}

void bench_report_table(FILE *f, const bench_result *r)
{
    fprintf(f, "\n== sfu-bench: %s against %s (join: %s), %.1f s window ==\n", r->scenario,
            r->target, r->join, r->duration_s);
    fprintf(f, "  %-34s %u (%u publisher(s), %u viewers; %u joined, %u failed)\n",
            "participants", r->participants, r->publishers, r->viewers, r->joined, r->failed);
    if (r->failed)
        fprintf(f, "  %-34s %s\n", "first failure", r->first_failure);
    fprintf(f, "  %-34s %llu sent, %llu forwarded (decrypted by viewers)\n", "packets",
            (unsigned long long)r->sent_packets, (unsigned long long)r->forwarded_packets);
    row(f, "forwarded packets/s", r->forwarded_pps, "%.0f", "");
    row(f, "forwarded bits/s", r->forwarded_bps / 1e6, "%.2f", "Mbit/s");
    row(f, "loss (RTP sequence gaps)", r->loss_ratio * 100, "%.3f", "%");
    row(f, "SFU CPU", r->sfu_cpu_seconds, "%.2f", "s");
    row(f, "SFU CPU per forwarded packet", r->sfu_cpu_us_per_forwarded_packet, "%.2f", "us");
    if (r->sfu_cpu_stall_seconds >= 0 && r->sfu_cpu_us_per_forwarded_packet_steady > 0) {
        fprintf(f, "  %-34s %.2f s in %u s of the window\n", "SFU CPU in stalls (vCPU)",
                r->sfu_cpu_stall_seconds, r->stall_seconds);
        row(f, "  per forwarded packet without", r->sfu_cpu_us_per_forwarded_packet_steady, "%.2f", "us");
    }
    row(f, "bench CPU (both threads)", r->bench_cpu_seconds, "%.2f", "s");
    if (r->rx_poll_us)
        fprintf(f, "  %-34s every %u us from a timer\n", "bench reads the server's datagrams",
                r->rx_poll_us);
    else
        fprintf(f, "  %-34s as they arrive (GLib's poll wakes)\n", "bench reads the server's datagrams");
    row(f, "latency p50", r->latency_ms_p50, "%.3f", "ms");
    row(f, "latency p95", r->latency_ms_p95, "%.3f", "ms");
    row(f, "latency p99", r->latency_ms_p99, "%.3f", "ms");
    fprintf(f, "  %-34s %llu matched (%llu with the kernel's arrival stamp), %llu unmatched\n",
            "latency samples", (unsigned long long)r->latency_samples,
            (unsigned long long)r->latency_stamped, (unsigned long long)r->latency_unmatched);
    fprintf(f, "  %-34s %.3f / %.3f / %.3f ms\n", "latency p50/p95/p99 at hand-over",
            r->latency_app_ms_p50, r->latency_app_ms_p95, r->latency_app_ms_p99);
    row(f, "join p50 (POST to first keyframe)", r->join_ms_p50, "%.1f", "ms");
    row(f, "join p95", r->join_ms_p95, "%.1f", "ms");
    fprintf(f, "  %-34s answer %.1f, ICE %.1f, SRTP keys %.1f ms after the POST\n", "join p50 phases",
            r->join_phase_ms_p50[0], r->join_phase_ms_p50[1], r->join_phase_ms_p50[2]);
    row(f, "SFU RSS", r->sfu_rss_bytes >= 0 ? (double)r->sfu_rss_bytes / 1048576 : -1, "%.1f",
        "MiB");
    row(f, "RSS per participant", r->rss_bytes_per_participant >= 0
            ? (double)r->rss_bytes_per_participant / 1024 : -1, "%.1f", "KiB");
    row(f, "  of it anonymous (RssAnon)", r->rss_anon_bytes_per_participant > 0
            ? (double)r->rss_anon_bytes_per_participant / 1024 : -1, "%.1f", "KiB");
    fprintf(f, "  %-34s %llu frames, %llu errors, %llu PLIs sent (%u decoding viewers)\n",
            "VP8 decoded", (unsigned long long)r->frames_decoded,
            (unsigned long long)r->decode_errors, (unsigned long long)r->plis_sent, r->decoders);
    fprintf(f, "  %-34s srtp=%s nack=%s pli=%s transport-cc=%s; publisher got %llu PLI/FIR, "
            "%llu NACK\n", "target features", r->srtp_profile[0] ? r->srtp_profile : "?",
            r->nack ? "on" : "off", r->pli ? "on" : "off", r->twcc ? "on" : "off",
            (unsigned long long)r->plis_received, (unsigned long long)r->nacks_received);
    if (r->sfu_cpu != UINT32_MAX)
        fprintf(f, "  %-34s sfu on cpu %u, bench on cpu %u\n", "pinning", r->sfu_cpu, r->bench_cpu);
    if (r->simulcast) {
        static const char *const what[] = { "pinned to q", "pinned to h", "automatic (f)" };
        fprintf(f, "  simulcast: video per viewer (SRTP kbit/s min / mean / max, pkt/s) vs the "
                "layer's VP8 rate\n");
        for (unsigned g = 0; g < 3; g++) {
            const struct bench_layer_group *lg = &r->groups[g];
            fprintf(f, "    %-14s %3u viewers  %8.1f / %8.1f / %8.1f kbit/s  %6.1f pkt/s  "
                    "(layer sends %.1f kbit/s)\n", what[g], lg->viewers, lg->kbps_min,
                    lg->kbps_mean, lg->kbps_max, lg->pps_mean, lg->source_kbps);
        }
        fprintf(f, "    every viewer within its layer's band: %s\n", r->layers_ok ? "yes" : "NO");
    }
    if (r->tiles) {
        fprintf(f, "  %-34s %u of %u members received exactly their %u tiles' video; "
                "GET /rooms agrees for %u\n", "tiles (large-meeting)", r->tiles_members_ok,
                r->participants, r->tiles_per_member, r->tiles_sfu_ok);
        fprintf(f, "  %-34s %u-%u streams per member (the SFU's audio slots: %d)%s%s\n",
                "audio received", r->tiles_audio_min, r->tiles_audio_max, r->tiles_sfu_audio_slots,
                r->tiles_problem[0] ? "; first mismatch: " : "", r->tiles_problem);
    }
    if (r->nsteps)
        ramp_table(f, r);
}

int bench_report_json(const char *path, const bench_result *r)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "{\n  \"target\": \"%s\",\n  \"scenario\": \"%s\",\n  \"join\": \"%s\",\n"
            "  \"duration_s\": %.3f,\n"
            "  \"participants\": %u,\n  \"publishers\": %u,\n  \"viewers\": %u,\n"
            "  \"joined\": %u,\n  \"failed\": %u,\n  \"sent_packets\": %llu,\n"
            "  \"forwarded_packets\": %llu,\n  \"forwarded_bytes\": %llu,\n"
            "  \"forwarded_packets_per_s\": %.1f,\n  \"forwarded_bits_per_s\": %.0f,\n"
            "  \"bench_cpu_seconds\": %.2f,\n  \"bench_rx_poll_us\": %u,\n",
            r->target, r->scenario, r->join, r->duration_s, r->participants, r->publishers,
            r->viewers, r->joined, r->failed, (unsigned long long)r->sent_packets,
            (unsigned long long)r->forwarded_packets, (unsigned long long)r->forwarded_bytes,
            r->forwarded_pps, r->forwarded_bps, r->bench_cpu_seconds, r->rx_poll_us);
    /* Figures that may be unknown (negative): null then. */
    const struct {
        const char *key;
        double v;
        const char *fmt;
    } figs[] = {
        { "sfu_cpu_seconds", r->sfu_cpu_seconds, "%.6g" },
        { "sfu_cpu_us_per_forwarded_packet", r->sfu_cpu_us_per_forwarded_packet, "%.6g" },
        { "loss_ratio", r->loss_ratio, "%.6g" },
        { "latency_ms_p50", r->latency_ms_p50, "%.6g" },
        { "latency_ms_p95", r->latency_ms_p95, "%.6g" },
        { "latency_ms_p99", r->latency_ms_p99, "%.6g" },
        { "join_ms_p50", r->join_ms_p50, "%.6g" },
        { "join_ms_p95", r->join_ms_p95, "%.6g" },
        { "sfu_rss_bytes", (double)r->sfu_rss_bytes, "%.0f" },
        { "rss_bytes_per_participant", (double)r->rss_bytes_per_participant, "%.0f" },
        { "rss_anon_bytes_per_participant", (double)r->rss_anon_bytes_per_participant, "%.0f" },
        { "sfu_cpu_stall_seconds", r->sfu_cpu_stall_seconds, "%.6g" },
        { "stall_seconds", (double)r->stall_seconds, "%.0f" },
        { "sfu_cpu_us_per_forwarded_packet_steady",
          r->sfu_cpu_us_per_forwarded_packet_steady > 0 ? r->sfu_cpu_us_per_forwarded_packet_steady : -1,
          "%.6g" },
        { "latency_app_ms_p50", r->latency_app_ms_p50, "%.6g" },
        { "latency_app_ms_p95", r->latency_app_ms_p95, "%.6g" },
        { "latency_app_ms_p99", r->latency_app_ms_p99, "%.6g" },
    };
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++) {
        fprintf(f, "  \"%s\": ", figs[i].key);
        num(f, figs[i].v, figs[i].fmt, "null");
        fprintf(f, ",\n");
    }
    fprintf(f, "  \"latency_samples\": %llu,\n  \"latency_stamped\": %llu,\n",
            (unsigned long long)r->latency_samples, (unsigned long long)r->latency_stamped);
    fprintf(f, "  \"frames_decoded\": %llu,\n  \"decode_errors\": %llu,\n"
            "  \"features\": {\"srtp\": \"%s\", \"nack\": %s, \"pli\": %s, \"transport_cc\": %s}",
            (unsigned long long)r->frames_decoded, (unsigned long long)r->decode_errors,
            r->srtp_profile, r->nack ? "true" : "false", r->pli ? "true" : "false",
            r->twcc ? "true" : "false");
    if (r->simulcast) {
        static const char *const names[] = { "q", "h", "auto" };
        fprintf(f, ",\n  \"simulcast_layers_ok\": %s,\n  \"simulcast_viewers\": [\n",
                r->layers_ok ? "true" : "false");
        for (unsigned g = 0; g < 3; g++) {
            const struct bench_layer_group *lg = &r->groups[g];
            fprintf(f, "    {\"asked\": \"%s\", \"viewers\": %u, \"video_kbps_min\": ", names[g],
                    lg->viewers);
            num(f, lg->kbps_min, "%.1f", "null");
            fprintf(f, ", \"video_kbps_mean\": ");
            num(f, lg->kbps_mean, "%.1f", "null");
            fprintf(f, ", \"video_kbps_max\": ");
            num(f, lg->kbps_max, "%.1f", "null");
            fprintf(f, ", \"video_pps_mean\": ");
            num(f, lg->pps_mean, "%.1f", "null");
            fprintf(f, ", \"layer_source_kbps\": ");
            num(f, lg->source_kbps, "%.1f", "null");
            fprintf(f, "}%s\n", g < 2 ? "," : "");
        }
        fprintf(f, "  ]");
    }
    if (r->tiles)
        fprintf(f, ",\n  \"tiles_per_member\": %u,\n  \"tiles_members_ok\": %u,\n"
                "  \"tiles_sfu_ok\": %u,\n  \"audio_streams_min\": %u,\n"
                "  \"audio_streams_max\": %u,\n  \"sfu_audio_slots\": %d,\n  \"audio_ok\": %s",
                r->tiles_per_member, r->tiles_members_ok, r->tiles_sfu_ok, r->tiles_audio_min,
                r->tiles_audio_max, r->tiles_sfu_audio_slots, r->tiles_audio_ok ? "true" : "false");
    if (r->nsteps) {
        fprintf(f, ",\n  \"capacity_participants\": %u,\n  \"ramp_stop\": \"%s\",\n"
                "  \"ramp\": [\n", r->capacity, r->ramp_stop);
        for (unsigned i = 0; i < r->nsteps; i++) {
            const bench_ramp_step *s = &r->steps[i];
            fprintf(f, "    {\"participants\": %u, \"sfu_cpu_ratio\": %.4f, \"bench_cpu_ratio\": %.4f, "
                    "\"sfu_cpu_us_per_forwarded_packet\": %.4g, \"forwarded_packets_per_s\": "
                    "%.1f, \"loss_ratio\": %.6g, \"latency_ms_p50\": %.4g, \"latency_ms_p95\": "
                    "%.4g, \"latency_ms_p99\": %.4g, \"latency_app_ms_p99\": %.4g, "
                    "\"sfu_rss_bytes\": %lld, \"passed\": %s}%s\n",
                    s->participants, s->sfu_cpu_ratio, s->bench_cpu_ratio, s->cpu_us_per_packet,
                    s->forwarded_pps, s->loss_ratio, s->latency_ms_p50, s->latency_ms_p95,
                    s->latency_ms_p99, s->latency_app_ms_p99,
                    (long long)s->sfu_rss_bytes, s->passed ? "true" : "false",
                    i + 1 < r->nsteps ? "," : "");
        }
        fprintf(f, "  ]");
    }
    fprintf(f, "\n}\n");
    return fclose(f) == 0 ? 0 : -1;
}

int bench_report_csv(const char *path, const bench_result *r)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "target,scenario,duration_s,participants,forwarded_packets,sfu_cpu_seconds,"
               "sfu_cpu_us_per_forwarded_packet,loss_ratio,latency_ms_p50,latency_ms_p95,"
               "latency_ms_p99,join_ms_p50,join_ms_p95,sfu_rss_bytes,rss_bytes_per_participant\n");
    fprintf(f, "%s,%s,%.3f,%u,%llu,", r->target, r->scenario, r->duration_s, r->participants,
            (unsigned long long)r->forwarded_packets);
    const double vals[] = {
        r->sfu_cpu_seconds, r->sfu_cpu_us_per_forwarded_packet, r->loss_ratio, r->latency_ms_p50,
        r->latency_ms_p95, r->latency_ms_p99, r->join_ms_p50, r->join_ms_p95,
        (double)r->sfu_rss_bytes, (double)r->rss_bytes_per_participant,
    };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        num(f, vals[i], i >= 8 ? "%.0f" : "%.6g", "");
        fputc(i + 1 < sizeof vals / sizeof vals[0] ? ',' : '\n', f);
    }
    return fclose(f) == 0 ? 0 : -1;
}
