"""Image handling for the gateway: recognise, bound, decode and convert caller images and masks."""
