"""The softphone in the page: WebRTC phones on the hotline's Asterisk, reached through the service's own /sip
websocket, and the phone module (`/phone/phone.js`) the desk and the plain phone page (`/phone/`) use."""
