#!/bin/sh
# Regenerates demo.flv: the 6-second H.264/AAC loop that `hawker demo` publishes through its own
# RTMP ingest. 640x360 at 30 fps, a keyframe every second, ~700 kbit/s.
set -e
cd "$(dirname "$0")"
ffmpeg -v error -y \
  -f lavfi -i "testsrc2=size=640x360:rate=30,drawtext=text='Hawker demo show':fontcolor=white:fontsize=36:box=1:boxcolor=black@0.5:x=(w-tw)/2:y=h-60" \
  -f lavfi -i "sine=frequency=660:beep_factor=2:sample_rate=48000,volume=0.2" \
  -t 6 -c:v libx264 -profile:v main -preset veryfast -tune zerolatency \
  -g 30 -keyint_min 30 -sc_threshold 0 -b:v 600k -maxrate 700k -bufsize 600k -pix_fmt yuv420p \
  -c:a aac -b:a 96k -ac 2 -f flv demo.flv
