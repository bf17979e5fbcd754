// The camera: a live preview in a <video>, one frame taken as a photo, and the stream stopped the moment the
// photo is taken (or the preview is cancelled, or the page hides). The frame stays in this tab: it becomes the
// same {rgba, width, height} an uploaded photo does, and never goes into the link, storage or the network.

/** Why the camera could not start, as an i18n key: no camera API, permission refused, no camera, or busy. */
export function cameraErrorKey(e) {
  const name = e?.name || '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'camera.denied';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'camera.none';
  if (name === 'NotReadableError' || name === 'AbortError') return 'camera.busy';
  return 'camera.failed';
}

export class Camera {
  constructor(video) {
    this.video = video;
    this.stream = null;
    this.onHide = () => {
      if (document.hidden) this.stop();
    };
  }

  get live() {
    return !!this.stream;
  }

  /** Starts the preview (the back camera on a phone, when there is one). Throws Error('camera.<why>'). */
  async start() {
    if (!navigator.mediaDevices?.getUserMedia) throw new Error('camera.unsupported');
    this.stop();
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 }, height: { ideal: 960 } },
      });
    } catch (e) {
      throw new Error(cameraErrorKey(e));
    }
    this.stream = stream;
    this.video.srcObject = stream;
    this.video.muted = true;
    this.video.playsInline = true;
    await this.video.play().catch(() => {});
    if (!this.video.videoWidth) {
      await new Promise((resolve) => this.video.addEventListener('loadedmetadata', resolve, { once: true }));
    }
    document.addEventListener('visibilitychange', this.onHide);
  }

  /** The current frame as RGBA ({rgba: ArrayBuffer, width, height, bitmap}); stops the stream. */
  take() {
    const v = this.video;
    const width = v.videoWidth;
    const height = v.videoHeight;
    if (!this.stream || !width || !height) {
      this.stop();
      throw new Error('camera.failed');
    }
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(v, 0, 0, width, height);
    this.stop();
    const rgba = ctx.getImageData(0, 0, width, height).data.buffer;
    return { rgba, width, height, bitmap: canvas };
  }

  /** Stops every track and detaches the preview: the camera light goes off. */
  stop() {
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    this.video.srcObject = null;
    document.removeEventListener('visibilitychange', this.onHide);
  }
}
