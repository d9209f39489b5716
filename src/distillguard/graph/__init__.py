"""distillguard.graph"""
