/**
 * camera.js: the camera for face unlock, re-checks and enrolment. The
 * stream is opened only while frames are needed and stopped right after;
 * frames are drawn to a canvas and sent as JPEG (base64), never stored.
 */
export const CAMERA_JS = String.raw`function base64(buffer) {
  const bytes = new Uint8Array(buffer);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Opens the camera into the video element; resolves once a frame is showing. */
export async function openCamera(video) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error('this browser gives the page no camera');
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
  video.hidden = false;
  video.srcObject = stream;
  await video.play();
  if (video.readyState < 2 || video.videoWidth === 0) await new Promise((resolve) => video.addEventListener('loadeddata', resolve, { once: true }));
  return {
    stop() {
      for (const t of stream.getTracks()) t.stop();
      video.srcObject = null;
      video.hidden = true;
    },
  };
}

/** The frame showing now, as base64 JPEG. */
export async function grabFrame(video) {
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext('2d').drawImage(video, 0, 0);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.92));
  if (!blob) throw new Error('the camera frame could not be encoded');
  return base64(await blob.arrayBuffer());
}

/** count frames, intervalMs apart; onFrame(i) after each. */
export async function captureFrames(video, count, intervalMs, onFrame) {
  const frames = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
    frames.push(await grabFrame(video));
    if (onFrame) onFrame(i + 1);
  }
  return frames;
}
`;
