"""distillguard.signals"""
