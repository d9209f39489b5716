"""distillguard.signals.builtin"""
