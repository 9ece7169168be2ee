// WHIP publishing and WHEP playback in the browser: one RTCPeerConnection each, the offer sent
// whole (the server is ICE-lite and learns our address from our checks, so no trickle is
// needed), H.264 put first so the server can package it without re-encoding.

/** H.264 first among the video codecs the browser can send or receive, keeping the repair
 *  formats (rtx, red, ulpfec); null when it has no H.264. */
function h264First(kind) {
  const caps = (kind === 'send' ? RTCRtpSender : RTCRtpReceiver).getCapabilities?.('video');
  if (!caps) return null;
  const h264 = caps.codecs.filter((c) => c.mimeType.toLowerCase() === 'video/h264');
  if (h264.length === 0) return null;
  const repair = caps.codecs.filter((c) => /rtx|red|ulpfec/i.test(c.mimeType));
  return [...h264, ...repair];
}

async function problem(res) {
  try {
    const p = await res.json();
    return p.detail || p.title || `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

async function exchange(pc, url, headers) {
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp', ...headers },
    body: pc.localDescription.sdp,
  });
  if (res.status !== 201) throw new Error(await problem(res));
  const resource = new URL(res.headers.get('Location'), url).toString();
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  return resource;
}

/** A session: `pc`, and `stop()` that ends it on the server too. */
function session(pc, resource) {
  return {
    pc,
    resource,
    async stop() {
      // The resource first: a closed connection ends the session on the server by itself,
      // and the DELETE would then find nothing.
      await fetch(resource, { method: 'DELETE' }).catch(() => {});
      pc.close();
    },
    /** Only here: the server ended the session itself (a consult's end closes its call). */
    close() {
      pc.close();
    },
  };
}

/** Publishes `stream` to `url` (the channel's whip_url) with the stream key. */
export async function whipPublish(url, key, stream) {
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  for (const track of stream.getTracks()) {
    // Send-only transceivers: what Safari on iOS needs to publish without receiving.
    const t = pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    if (track.kind === 'video') {
      const codecs = h264First('send');
      if (!codecs) {
        pc.close();
        throw new Error('this browser cannot send H.264 video');
      }
      t.setCodecPreferences?.(codecs);
      // Keep the picture size while the bandwidth estimate ramps up: every size change is a
      // new decoder configuration (a discontinuity) in the LL-HLS output.
      const p = t.sender.getParameters();
      p.degradationPreference = 'maintain-resolution';
      t.sender.setParameters(p).catch(() => {});
    }
  }
  try {
    return session(pc, await exchange(pc, url, { Authorization: `Bearer ${key}` }));
  } catch (e) {
    pc.close();
    throw e;
  }
}

/** Plays `url` (a channel's whep_url) into `video`; throws when WebRTC cannot play it (the
 *  caller falls back to LL-HLS). */
export async function whepPlay(url, video) {
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  const stream = new MediaStream();
  pc.addTransceiver('audio', { direction: 'recvonly' });
  const v = pc.addTransceiver('video', { direction: 'recvonly' });
  const codecs = h264First('receive');
  if (codecs) v.setCodecPreferences?.(codecs);
  pc.ontrack = (ev) => {
    stream.addTrack(ev.track);
    if (video.srcObject !== stream) video.srcObject = stream;
  };
  try {
    return session(pc, await exchange(pc, url, {}));
  } catch (e) {
    pc.close();
    throw e;
  }
}

/** Joins a call (co-hosting) at `url` sending `stream`; the other party's media plays in
 *  `video`. */
export async function joinCall(url, stream, video) {
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  const remote = new MediaStream();
  for (const track of stream.getTracks()) {
    const t = pc.addTransceiver(track, { direction: 'sendrecv', streams: [stream] });
    if (track.kind === 'video') {
      const codecs = h264First('send');
      if (codecs) t.setCodecPreferences?.(codecs);
    }
  }
  pc.ontrack = (ev) => {
    remote.addTrack(ev.track);
    if (video.srcObject !== remote) video.srcObject = remote;
  };
  try {
    return session(pc, await exchange(pc, url, {}));
  } catch (e) {
    pc.close();
    throw e;
  }
}
