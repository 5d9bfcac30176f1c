import QRCode from 'qrcode';
import { useEffect, useState } from 'react';

/** A QR code drawn here (SVG as a data: URL): nothing is sent anywhere to make it. */
export function QrCode({ value, label, size = 168 }: { value: string; label: string; size?: number }) {
  const [src, setSrc] = useState<string>();
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    QRCode.toString(value, {
      type: 'svg',
      margin: 1,
      errorCorrectionLevel: 'M',
      color: { dark: '#000000', light: '#ffffff' },
    }).then(
      (svg) => {
        if (live) setSrc(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`);
      },
      () => {
        if (live) setFailed(true);
      }
    );
    return () => {
      live = false;
    };
  }, [value]);
  if (failed) return <p className="muted small">Could not draw the QR code.</p>;
  return (
    <div className="qr" style={{ width: size, height: size }}>
      {src && <img src={src} width={size} height={size} alt={label} />}
    </div>
  );
}
