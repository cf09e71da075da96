"""Chalice entry points. They only wire: all logic lives in chalicelib (the Lambda
handlers of SPEC §4 arrive with the service; the engine is usable from the CLI now)."""

from chalice import Chalice

app = Chalice(app_name="vpcwatch")
