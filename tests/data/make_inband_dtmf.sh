#!/bin/sh
# Write G.711 mu-law audio of DTMF key presses, for SIPp to stream as a
# caller who dials in-band (no RFC 4733, no INFO).
#
#   tests/data/make_inband_dtmf.sh OUT TOKEN...
#
# Each TOKEN is a key (0-9 * # A-D), played for TONE_MS and followed by
# GAP_MS of silence, or a pause written as a number of milliseconds with
# "ms" (e.g. 1000ms). Quote * and # from the shell. Example, "3", one
# second, "1":
#
#   tests/data/make_inband_dtmf.sh /tmp/dial_3_1.ul 3 1000ms 1
#
# Environment: TONE_MS (100), GAP_MS (100), LEAD_MS (200, silence first, so
# the far end's jitter buffer has settled), LEVEL_DBFS (-6, peak of the
# dual tone; each tone is then about -12 dBm0).
#
# OUT's extension picks the container:
#   *.ul, *.raw, *.pcmu  headerless mu-law, 8000 Hz, mono: one byte a sample.
#                        This is what SIPp 3.6 needs: its rtp_stream sends
#                        the file's bytes as they are (rtpstream_cache_file
#                        reads the file whole; nothing parses a header), so a
#                        WAV header would go out as 7 ms of noise. Use .ul
#                        if soxi should read it (it takes .ul as raw mu-law,
#                        8 kHz, mono).
#   *.wav                mu-law in a WAV container, for SIPp releases after
#                        3.6 (they skip a RIFF/WAVE header) and for people.
#
# In a SIPp scenario, after the 200 OK's SDP is known (payload type 0 is
# PCMU, sent as 160 bytes every 20 ms):
#
#   <nop><action><exec rtp_stream="/tmp/dial_3_1.ul,1,0"/></action></nop>
#
# The sox commands, per key and per pause (16-bit linear at 8 kHz, no
# dither so the output is the same every run); the parts are joined with cat
# (headerless PCM joins by concatenation) and encoded once:
#
#   sox -D -r 8000 -n -b 16 -e signed-integer -c 1 -t raw KEY.s16 \
#       synth 0.100 sine ROW_HZ sine COLUMN_HZ remix 1-2 gain -n LEVEL_DBFS
#   sox -D -r 8000 -n -b 16 -e signed-integer -c 1 -t raw PAUSE.s16 trim 0 SECONDS
#   sox -D -t raw -r 8000 -b 16 -e signed-integer -c 1 ALL.s16 -t ul OUT
#                                          (or: ... ALL.s16 -t wav -e u-law OUT)
set -eu

usage() {
    echo "usage: $0 OUT TOKEN...   (TOKEN: a key 0-9*#A-D, or a pause like 1000ms)" >&2
    exit 2
}

[ "$#" -ge 2 ] || usage
out=$1
shift

tone_ms=${TONE_MS:-100}
gap_ms=${GAP_MS:-100}
lead_ms=${LEAD_MS:-200}
level=${LEVEL_DBFS:--6}

case $out in
*.wav) container="-t wav -e u-law" ;;
*.ul | *.raw | *.pcmu) container="-t ul" ;;
*) echo "$0: OUT must end in .ul, .raw, .pcmu or .wav: $out" >&2; exit 2 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0

seconds() {
    awk -v ms="$1" 'BEGIN { printf "%.3f", ms / 1000 }'
}

pause() {
    n=$((n + 1))
    sox -D -r 8000 -n -b 16 -e signed-integer -c 1 -t raw "$work/$(printf %04d $n).s16" \
        trim 0 "$(seconds "$1")"
}

tone() {
    n=$((n + 1))
    sox -D -r 8000 -n -b 16 -e signed-integer -c 1 -t raw "$work/$(printf %04d $n).s16" \
        synth "$(seconds "$tone_ms")" sine "$1" sine "$2" remix 1-2 gain -n "$level"
}

pause "$lead_ms"
for token in "$@"; do
    case $token in
    1) tone 697 1209 ;;
    2) tone 697 1336 ;;
    3) tone 697 1477 ;;
    A | a) tone 697 1633 ;;
    4) tone 770 1209 ;;
    5) tone 770 1336 ;;
    6) tone 770 1477 ;;
    B | b) tone 770 1633 ;;
    7) tone 852 1209 ;;
    8) tone 852 1336 ;;
    9) tone 852 1477 ;;
    C | c) tone 852 1633 ;;
    '*') tone 941 1209 ;;
    0) tone 941 1336 ;;
    '#') tone 941 1477 ;;
    D | d) tone 941 1633 ;;
    *ms)
        ms=${token%ms}
        case $ms in
        '' | *[!0-9]*) usage ;;
        esac
        pause "$ms"
        continue
        ;;
    *) usage ;;
    esac
    pause "$gap_ms"
done

cat "$work"/*.s16 >"$work/all"
# $container is two or four words on purpose.
# shellcheck disable=SC2086
sox -D -t raw -r 8000 -b 16 -e signed-integer -c 1 "$work/all" $container "$out"
