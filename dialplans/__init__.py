"""The engineers' dialplan file: schema, validation, rendering to Asterisk configs, apply."""
