"""httpx clients of the WhatsApp gateways, one module per provider, behind ``ponte.ports.gateway``."""
