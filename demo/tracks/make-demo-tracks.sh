#!/bin/sh
# Synthesises the bundled demo tracks from nothing but Debian's sox, lame and ffmpeg, so the
# project owns every sample it ships (see README.md here: CC0). Deterministic: `sox -R` seeds the
# noise and dither generators, lame CBR has no timestamps, ffmpeg runs with +bitexact (fixed Ogg
# serial numbers). Re-running it reproduces the committed files byte for byte.
#
#   demo/tracks/make-demo-tracks.sh [OUT_DIR]      (default: the directory of this script)
#
# The piece: 120 bpm, I–V–vi–IV in C (C G Am F) for 32 bars plus a ringing final chord, ~68 s.
# Voices: a plucked bass, a triangle-wave chord pad (Haas-widened), a plucked lead with a
# ping-pong echo, kick/snare/hi-hat made from swept sines and filtered noise, room reverb.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

rate=44100
eighth=0.25 # seconds at 120 bpm
beat=0.5
bar=2

# One mono float WAV per distinct note/hit, cached by name; sequences are concatenations of them.
snd() { # snd NAME EFFECTS...  → $work/NAME.wav
  name=$1
  shift
  [ -f "$work/$name.wav" ] || sox -R -r $rate -n -c 1 -e floating-point -b 32 "$work/$name.wav" "$@"
  echo "$work/$name.wav"
}
rest() { snd "rest_$1" trim 0 "$1"; }
pluck() { # pluck SEMITONES_FROM_A4 SECONDS
  snd "pluck_$1_$2" synth "$2" pluck "%$1" fade 0 "$2" 0.04 gain -6
}
bassnote() {
  snd "bass_$1_$2" synth "$2" pluck "%$1" sine "%$1" remix - lowpass 900 fade 0.004 "$2" 0.06 gain -2
}
padchord() { # padchord SECONDS S1 S2 S3
  snd "pad_$1_$2_$3_$4" synth "$1" triangle "%$2" triangle "%$3" triangle "%$4" sine "%$(($2 - 12))" \
    remix - lowpass 1800 tremolo 5 8 fade 0.25 "$1" 0.4 gain -11
}
kick() { snd kick synth $eighth sine 160:40 fade 0 $eighth 0.2 gain -1; }
snare() {
  n=$(snd snare_noise synth $eighth whitenoise gain -9 band 1900 1400 fade 0 $eighth 0.21)
  t=$(snd snare_tone synth $eighth sine 190 fade 0 $eighth 0.22 gain -12)
  [ -f "$work/snare.wav" ] || sox -R -m "$n" "$t" "$work/snare.wav"
  echo "$work/snare.wav"
}
hat() { snd hat synth 0.06 whitenoise gain -15 highpass 7000 fade 0 0.06 0.05 pad 0 0.19; }
open_hat() { snd ohat synth $eighth whitenoise gain -18 highpass 6000 fade 0 $eighth 0.2; }

cat_to() { # cat_to OUT FILE...  (sox concatenates its inputs)
  dest=$1
  shift
  sox -R "$@" "$dest"
}

# Chords (semitones from A4), bass roots (octave 2) and two melodies, one entry per bar of the
# 4-bar progression; "r" is a rest. Melody A is a tune; melody B arpeggiates the chord.
chord_of() { case $1 in 0) echo "-9 -5 -2" ;; 1) echo "-14 -10 -7" ;; 2) echo "-12 -9 -5" ;; 3) echo "-16 -12 -9" ;; esac; }
root_of() { case $1 in 0) echo -33 ;; 1) echo -26 ;; 2) echo -24 ;; 3) echo -28 ;; esac; }
melody_a() { case $1 in 0) echo "7 r 10 7 5 3 5 7" ;; 1) echo "5 r 2 5 10 r 5 2" ;; 2) echo "3 r 7 12 10 7 3 r" ;; 3) echo "0 3 8 r 7 5 3 r" ;; esac; }
melody_b() { case $1 in 0) echo "3 7 10 15 10 7 3 7" ;; 1) echo "-2 2 5 10 5 2 -2 2" ;; 2) echo "0 3 7 12 7 3 0 3" ;; 3) echo "-4 0 3 8 3 0 -4 0" ;; esac; }

# Form (32 bars): intro 0-3 (pad, bass), verse 4-11 (+drums, melody A), breakdown 12-15 (pad,
# melody B, hats), chorus 16-23 (all, melody A), 24-31 (all, melody B), then the final chord.
bass_files='' pad_files='' lead_files='' drum_files=''
i=0
while [ $i -lt 32 ]; do
  c=$((i % 4))
  # shellcheck disable=SC2046
  pad_files="$pad_files $(padchord $bar $(chord_of $c))"
  r=$(root_of $c)
  if [ $i -ge 12 ] && [ $i -lt 16 ]; then
    bass_files="$bass_files $(rest $bar)"
  else
    for s in $r $r $((r + 7)) $((r + 12)); do bass_files="$bass_files $(bassnote "$s" $beat)"; done
  fi
  if [ $i -lt 4 ]; then
    notes="r r r r r r r r"
  elif [ $i -ge 12 ] && [ $i -lt 16 ] || [ $i -ge 24 ]; then
    notes=$(melody_b $c)
  else
    notes=$(melody_a $c)
  fi
  for n in $notes; do
    if [ "$n" = r ]; then lead_files="$lead_files $(rest $eighth)"; else lead_files="$lead_files $(pluck "$n" $eighth)"; fi
  done
  # Drums, one eighth at a time: kick on 1 and 3 (and the "and" of 3), snare on 2 and 4, hats on every eighth.
  e=0
  while [ $e -lt 8 ]; do
    slot="$work/slot_${i}_$e.wav"
    if [ $i -lt 3 ]; then
      cp "$(rest $eighth)" "$slot"
    elif [ $i -eq 3 ] || { [ $i -ge 12 ] && [ $i -lt 16 ]; }; then
      if [ $((e % 2)) -eq 1 ]; then cp "$(open_hat)" "$slot"; else cp "$(hat)" "$slot"; fi
    else
      case $e in
        0 | 4 | 5) sox -R -m "$(kick)" "$(hat)" "$slot" ;;
        2 | 6) sox -R -m "$(snare)" "$(hat)" "$slot" ;;
        7) cp "$(open_hat)" "$slot" ;;
        *) cp "$(hat)" "$slot" ;;
      esac
    fi
    drum_files="$drum_files $slot"
    e=$((e + 1))
  done
  i=$((i + 1))
done
# Final chord: 4 s of C with a low C, everything else rests.
# shellcheck disable=SC2046
pad_files="$pad_files $(padchord 4 $(chord_of 0))"
bass_files="$bass_files $(bassnote -33 4)"
lead_files="$lead_files $(pluck 15 4)"
drum_files="$drum_files $(kick) $(rest 3.75)"

# shellcheck disable=SC2086
{
  cat_to "$work/bass.wav" $bass_files
  cat_to "$work/pad.wav" $pad_files
  cat_to "$work/lead.wav" $lead_files
  cat_to "$work/drums.wav" $drum_files
}
# Stereo image: pad left dry / right 18 ms later (Haas width); lead left with a dotted-eighth echo
# on the right (ping-pong movement); bass and drums centred; then a room reverb over the mix.
sox -R "$work/pad.wav" "$work/pad_r.wav" delay 0.018
sox -R "$work/lead.wav" "$work/lead_echo.wav" delay 0.375 gain -4
sox -R -M "$work/bass.wav" "$work/pad.wav" "$work/pad_r.wav" "$work/lead.wav" "$work/lead_echo.wav" "$work/drums.wav" \
  "$work/mix.wav" remix -m 1v0.4,2v0.5,4v0.45,6v0.45 1v0.4,3v0.5,4v0.18,5v0.45,6v0.45 reverb 22 50 70 gain -n -1 fade 0 -0 1.5
sox -R "$work/mix.wav" -b 16 -e signed-integer "$work/mix16.wav"

# MP3: LAME CBR 128 kbit/s, with its Info/LAME tag (encoder delay and padding for gapless play)
# and an ID3v2 tag, as real files have.
lame --quiet --noreplaygain -b 128 --id3v2-only --tt "Loopback Lullaby" --ta "rtc-audio-player" \
  --tl "rtc-audio-player demo" --ty 2026 \
  "$work/mix16.wav" "$out/loopback-lullaby.mp3"
# A short Ogg Opus excerpt (the chorus), to show a second format.
ffmpeg -v error -y -ss 32 -t 20 -i "$work/mix16.wav" -af "afade=t=out:st=18.5:d=1.5" -c:a libopus -b:a 64k \
  -fflags +bitexact -flags:a +bitexact -map_metadata -1 -metadata title="Loopback Lullaby (chorus)" \
  "$out/loopback-lullaby-chorus.opus"
ls -l "$out/loopback-lullaby.mp3" "$out/loopback-lullaby-chorus.opus"
