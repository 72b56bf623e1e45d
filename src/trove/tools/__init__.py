"""Wrappers around the external tools the pipeline drives (ExifTool, ffmpeg, Tesseract).

Every call is bounded in time and in input/output size, and a tool that crashes, hangs or
answers nonsense raises ToolError with a short reason instead of taking the worker down.
"""
