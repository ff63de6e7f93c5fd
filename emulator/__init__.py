"""A local emulator of the Amazon Bedrock Runtime API for image models.

It plays AWS for the gateway's tests and for `make run` on a machine with no AWS access: the wire
protocol of InvokeModel, each model's request validation, procedural images with measurable
behaviour, content filtering, and fault injection. It shares no code with the gateway.
"""
